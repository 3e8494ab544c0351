"""The data model: supporters, their subscriptions and payments, checkout
attempts, Stripe events, used manage links, staff users and what admins did,
campaigns, banner counters and the dashboard's figures.

Money is an integer in minor units next to its ISO currency code (lowercase,
as Stripe writes it). Times are timezone-aware UTC (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from support.extensions import db


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes on every database.

    SQLite has no time zones and hands back naive values; this type stores UTC
    and always returns aware UTC, so comparisons never mix naive and aware.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Supporter(db.Model):
    """A reader who gave, keyed by their Stripe customer: one row per customer.

    `email` is not unique: it is what was typed at Checkout (or later set at
    Stripe), never proven, so two customers may carry one address. Access to a
    supporter's gifts is proven (support/supporter_access.py), never looked up
    by address alone.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    lang: Mapped[str] = mapped_column(sa.String(8), default="en")
    first_supported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the supporter unsubscribed from asks (marketing mail, support/asks/): kept
    # by us alone, so no webhook or ledger rebuild writes it; service mail still goes.
    asks_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The freshness version of the Stripe customer read last into email and name
    # (see support/ledger/versions.py).
    stripe_updated: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="supporter")
    payments: Mapped[list[Payment]] = relationship(back_populates="supporter")


class Subscription(db.Model):
    """A recurring gift, mirrored from a Stripe subscription."""

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    supporter_id: Mapped[int] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    interval: Mapped[str] = mapped_column(sa.String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(sa.String(500))
    campaign: Mapped[str | None] = mapped_column(sa.String(64))
    variant: Mapped[str | None] = mapped_column(sa.String(64))
    lang: Mapped[str | None] = mapped_column(sa.String(8))
    # Stripe's `pause_collection`: set while payments are paused, with the date they
    # resume (None: until resumed by hand).
    collection_paused: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Stripe's `cancellation_details`: the reason chosen (its `feedback`) and the words given.
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(32))
    cancel_comment: Mapped[str | None] = mapped_column(sa.Text)
    # The card the subscription is charged to (its default payment method, else the
    # customer's invoice default), as read with the rest of the row: brand, last 4
    # digits and expiry only, nothing more of the card is kept.
    card_brand: Mapped[str | None] = mapped_column(sa.String(32))
    card_last4: Mapped[str | None] = mapped_column(sa.String(4))
    card_exp_month: Mapped[int | None] = mapped_column(sa.SmallInteger)
    card_exp_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # When (microseconds since the epoch, by the database's clock) the Stripe state
    # in this row was read; an older read must not overwrite it (support/ledger/versions.py).
    stripe_updated: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    supporter: Mapped[Supporter] = relationship(back_populates="subscriptions")
    payments: Mapped[list[Payment]] = relationship(back_populates="subscription")

    # Cards that stop working before the next payment are found by expiry first:
    # few cards expire by next month (support/reminders/expiring_cards.py).
    __table_args__ = (
        sa.Index(
            "ix_subscription_card_expiry", "card_exp_year", "card_exp_month", "current_period_end"
        ),
    )


class Payment(db.Model):
    """Money received: a paid invoice of a subscription, or a one-time gift."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The invoice id (in_...) for subscriptions, the payment intent (pi_...) for one-time gifts.
    stripe_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    supporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscription.id"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))  # "subscription" or "one_time"
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    disputed: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(sa.String(500))
    campaign: Mapped[str | None] = mapped_column(sa.String(64))
    variant: Mapped[str | None] = mapped_column(sa.String(64))
    # Stripe's receipt page for the charge that paid (`charge.receipt_url`), if any.
    receipt_url: Mapped[str | None] = mapped_column(sa.String(500))
    # A renewal paid after at least one failed attempt (support/ledger/payments.py):
    # money Stripe's retries or the supporter's new card won back.
    recovered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    stripe_updated: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supporter: Mapped[Supporter | None] = relationship(back_populates="payments")
    subscription: Mapped[Subscription | None] = relationship(back_populates="payments")


class SupporterChange(db.Model):
    """A change a supporter asked for on the account page (amount, frequency, pause,
    resume, cancel, undo of a cancellation), kept for the page and for staff.

    Written when asked, before Stripe is; the ledger marks it `applied_at` when the
    webhook that follows shows Stripe's subscription with it (support/ledger/changes.py),
    and only then is its confirmation mail queued. Until then the page says the change
    is on its way. `key` + `attempt` make the Stripe idempotency key: one rendered form
    sent twice is one row and one change; an attempt Stripe refused (`failed_at`) lets
    the same form be sent again under the next attempt number.
    """

    __table_args__ = (
        sa.UniqueConstraint("key", "attempt"),
        sa.Index("ix_supporter_change_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    attempt: Mapped[int] = mapped_column(default=0)
    supporter_id: Mapped[int] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscription.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # see support.account.actions.KINDS
    currency: Mapped[str] = mapped_column(sa.String(3))
    old_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    new_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    old_interval: Mapped[str | None] = mapped_column(sa.String(8))
    new_interval: Mapped[str | None] = mapped_column(sa.String(8))
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # The one offer shown before a cancellation (pause or lower), and whether this
    # change is that offer taken (a save) rather than the cancellation.
    offer: Mapped[str | None] = mapped_column(sa.String(16))
    saved: Mapped[bool] = mapped_column(default=False)
    lang: Mapped[str] = mapped_column(sa.String(8))
    # Database-clock versions (see support/ledger/versions.py) taken before Stripe was
    # asked and after it answered: a subscription read newer than these shows the change.
    asked_version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    answered_version: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UpgradeAsk(db.Model):
    """A mail staff sent to a group of supporters asking them to raise their gift.

    `filters` (JSON) is the group as chosen on the supporters list plus the ask's own
    (support/asks/selection.py); `rule` "set" asks for `amount`, "plus" for the gift
    plus `amount`, both in `currency`. The texts are the staff's, one pair per
    language. `token` is the form's one-time token, so a double submit records one
    ask. Recipients are queued in batches of supporter ids (`through_id` done so far,
    up to `until_id`, the last supporter when the ask was sent); `status` is
    "queuing" until the last batch, then "queued".
    """

    __tablename__ = "upgrade_ask"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    filters: Mapped[str] = mapped_column(sa.Text, default="{}")
    currency: Mapped[str] = mapped_column(sa.String(3))
    rule: Mapped[str] = mapped_column(sa.String(8))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    subject_en: Mapped[str] = mapped_column(sa.String(200))
    body_en: Mapped[str] = mapped_column(sa.Text)
    subject_ar: Mapped[str] = mapped_column(sa.String(200))
    body_ar: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="queuing", index=True)
    through_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    until_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UpgradeAskRecipient(db.Model):
    """One supporter an ask was queued for: the gift it asks to raise and to what.

    One row per ask and supporter (so one mail, `upgrade_ask:<id>`); `accepted_at`
    is set when the mailed link's button is pressed, once (support/asks/accept.py).
    """

    __tablename__ = "upgrade_ask_recipient"
    __table_args__ = (sa.UniqueConstraint("ask_id", "supporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(sa.ForeignKey("upgrade_ask.id"))
    supporter_id: Mapped[int] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscription.id"))
    old_amount: Mapped[int] = mapped_column(sa.BigInteger)
    new_amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    interval: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckoutAttempt(db.Model):
    """A Checkout Session we created; `completed_at` once Stripe says it was paid."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    frequency: Mapped[str] = mapped_column(sa.String(8))
    cover_fees: Mapped[bool] = mapped_column(default=False)
    lang: Mapped[str] = mapped_column(sa.String(8))
    source: Mapped[str | None] = mapped_column(sa.String(500))
    campaign: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    variant: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supporter.id"))
    # The Stripe customer that paid (the completed session's own `customer`): the
    # paying browser may act for this customer only (support/supporter_access.py).
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(64))
    # A session paid on our own pay page (`ui_mode: "elements"`): the secret Stripe.js
    # needs there, kept from creation so showing the page never reads Stripe. None for
    # a session on Stripe's hosted page.
    client_secret: Mapped[str | None] = mapped_column(sa.String(500))


class StripeEvent(db.Model):
    """A webhook event, stored when it arrives and applied by a worker.

    `status`: pending → processing (claimed by a worker until `next_attempt_at`,
    its lease) → processed | ignored | failed (`next_attempt_at` is then when to
    try again). `attempts` counts claims; it also tells a worker whether the
    claim it is finishing is still its own.
    """

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The events a worker may still have to apply: claiming takes the oldest of them and
# /healthz counts them, and both stay quick however many applied events are kept.
WAITING_EVENTS = ("pending", "processing", "failed")
sa.Index(
    "ix_stripe_event_waiting",
    StripeEvent.received_at,
    postgresql_where=StripeEvent.status.in_(WAITING_EVENTS),
    sqlite_where=StripeEvent.status.in_(WAITING_EVENTS),
)


class OutboundEmail(db.Model):
    """A mail we owe someone, keyed so a retried event cannot send it twice."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)  # e.g. "thanks:cs_..."
    kind: Mapped[str] = mapped_column(sa.String(32))
    supporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    # Staff mails (invitations, password resets) go to a staff user instead.
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    lang: Mapped[str] = mapped_column(sa.String(8), default="en")
    context: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON for the template
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a failed mail may be tried again, or when a claim on a "sending" row lapses.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffAlert(db.Model):
    """A short message owed to the staff chat (`STAFF_ALERT_WEBHOOK_URL`): a new gift,
    a cancellation, a payment given up on. Keyed like mail, so it is posted once.

    Queued while an event is applied and posted by the worker (support/alerts/):
    pending ──claim──▶ sending ──▶ sent, or failed (retried after a backoff until
    the last attempt; then it stays failed). `text` holds no name or address.
    """

    __tablename__ = "staff_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)  # e.g. "new:cs_..."
    kind: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsedLink(db.Model):
    """A manage link that has been used: its nonce is the key, so a link opens the portal once.

    Rows older than the longest link lifetime are pruned (support/manage/single_use.py):
    their links have expired anyway.
    """

    __tablename__ = "used_link"

    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SupporterSession(db.Model):
    """A short supporter session opened by spending a mailed manage link.

    The browser's signed session cookie holds the random token; only its hash is
    kept here, so a database read does not yield a usable session. The session
    proves the address the link was mailed to: `address_digest` is a keyed
    digest of it (no address is stored), checked against the supporter's
    address on every request, so erasure or a changed address ends it.
    `ended_at` is set by "Sign out".
    """

    __tablename__ = "supporter_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    supporter_id: Mapped[int] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    address_digest: Mapped[str] = mapped_column(sa.String(64))
    lang: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opened from the thanks page by the browser that paid: it covers that one
    # customer, not every customer sharing the (unproven) address.
    customer_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class StaffUser(UserMixin, db.Model):
    """Someone at the newsroom who may read the dashboard.

    `status` is "invited" (no password yet), "active" or "deactivated".
    `session_version` is carried by invitation and reset links and by a
    half-finished two-step sign-in: raising it (a new password, a new
    invitation) voids them. Signed-in sessions are rows of `StaffSession`.
    """

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="viewer")  # see accounts.ROLES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default="active", server_default="active")
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The TOTP secret once the second factor is confirmed, encrypted with Fernet
    # (support/staff/totp_keys.py); the last time step accepted, so one code
    # cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Opted in to the daily digest mail (support/alerts/digest.py), in the language
    # of the page where they opted in.
    daily_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    digest_lang: Mapped[str | None] = mapped_column(sa.String(8))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_edit_campaigns(self) -> bool:
        return self.role in ("admin", "editor")

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to sign in an account that is not active."""
        return self.status == "active"

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the random id of this browser's
        `StaffSession` (support/staff/sessions.py sets it), never the account's own id."""
        return getattr(self, "_session_token", "")


class StaffSession(db.Model):
    """One signed-in browser of a staff account.

    The cookie carries only a random id; the row keeps its SHA-256, so a copy
    of the database opens no session. Signing out, deactivation and a new
    password set `revoked_at`; a session also ends `STAFF_SESSION_HOURS` after
    `created_at` and `STAFF_SESSION_IDLE_MINUTES` after `last_seen_at`.
    `totp_setup` holds the authenticator key being set up on this browser
    (encrypted), so it goes with the session and is never in the cookie.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_setup: Mapped[str | None] = mapped_column(sa.String(255))


class StaffRecoveryCode(db.Model):
    """A one-time code that stands in for the second factor; only its SHA-256 is kept."""

    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffAction(db.Model):
    """One staff action, for the audit page (`support.audit`): who, when, on what, outcome.

    `action` is its kind (`support.audit.KINDS`): an admin's refund,
    cancel_now, cancel_at_period_end or resend_mail on a supporter's page, an
    erasure, a change to a staff account or to a campaign, a webhook replay.
    `target` names what it acted on (a Stripe id, a mail key, a staff email, a
    campaign slug; never a reader's name or address). `staff_email` is None
    when the command line did it. `outcome`: done, or for the actions on a
    supporter pending (Stripe is being asked) → requested (Stripe accepted; the
    ledger follows from the webhook) | queued (a mail) | failed (`detail`
    says why). Those also carry `key`, unique: the confirmation form's
    one-time token hashed with what was asked, also Stripe's idempotency key,
    so a double submit acts once; other rows have none.
    """

    __tablename__ = "staff_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    # Kept as well, so the record still says who it was if the account goes.
    staff_email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    supporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supporter.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32), index=True)
    target: Mapped[str] = mapped_column(sa.String(255))
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    outcome: Mapped[str] = mapped_column(sa.String(16), default="pending")
    detail: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerHeartbeat(db.Model):
    """A worker process, and when it last said it was alive (for /healthz)."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # host:pid
    threads: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BannerDailyStat(db.Model):
    """Aggregated banner beacons: no reader, IP or URL, only daily counts."""

    __tablename__ = "banner_daily_stat"
    __table_args__ = (
        sa.UniqueConstraint(
            "day", "campaign", "variant", "lang", name="uq_banner_daily_stat_campaign_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    # The campaign's slug; "banner" is the default campaign (the settings' variants).
    campaign: Mapped[str] = mapped_column(sa.String(64), default="banner", server_default="banner")
    variant: Mapped[str] = mapped_column(sa.String(64))
    lang: Mapped[str] = mapped_column(sa.String(8))
    impressions: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    dismissals: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Campaign(db.Model):
    """What readers are asked, where and how: appeal copy, banner variants, presets, targeting.

    `content` holds the rest of the campaign's document (support/campaigns/document.py)
    as JSON; `version` counts saves, so two editors saving the same version cannot
    overwrite each other. `weights` are the optimiser's, when it is on. `draft` is the
    whole document of a running campaign's next version, saved but not yet published:
    readers keep seeing `content` until an editor publishes the draft.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(8), default="draft", index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(sa.Text)
    draft: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    weights: Mapped[str | None] = mapped_column(sa.Text)
    weights_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(320))

    revisions: Mapped[list[CampaignRevision]] = relationship(
        back_populates="campaign", order_by="CampaignRevision.version.desc()"
    )


class CampaignRevision(db.Model):
    """One saved version of a campaign: the whole document, who saved it, what changed."""

    __tablename__ = "campaign_revision"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "version", name="uq_campaign_revision_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    version: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(16))  # created, edited, published, ...
    document: Mapped[str] = mapped_column(sa.Text)
    changes: Mapped[str] = mapped_column(sa.Text, default="[]")  # JSON list of field paths
    author: Mapped[str | None] = mapped_column(sa.String(320))  # staff email; None: command line
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="revisions")


class StatsMonth(db.Model):
    """Subscriptions started and canceled per calendar month and currency.

    A rollup kept by `support.stats.history`, so a year of history is read
    from a few hundred rows instead of every subscription. Amounts are the
    monthly equivalent times twelve (a yearly plan adds its amount, a monthly
    one twelve times its amount), which keeps the sums exact integers.
    """

    __tablename__ = "stats_month"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    started: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    canceled: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    mrr_started_x12: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    mrr_canceled_x12: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The dashboard (support/stats.py) answers from these indexes alone, so it stays
# fast at a million supporters: active counts and MRR per currency, one-time revenue.
sa.Index("ix_subscription_status_supporter", Subscription.status, Subscription.supporter_id)
sa.Index(
    "ix_subscription_status_currency",
    Subscription.status,
    Subscription.currency,
    Subscription.interval,
    Subscription.amount,
)
sa.Index("ix_payment_kind_paid_at", Payment.kind, Payment.paid_at)
# Recovered renewals are few: the dashboard and the digest count them from this alone.
sa.Index(
    "ix_payment_recovered_paid_at",
    Payment.paid_at,
    Payment.currency,
    postgresql_where=Payment.recovered,
    sqlite_where=Payment.recovered,
)
# A campaign's goal counts its active supporters.
sa.Index("ix_subscription_campaign_status", Subscription.campaign, Subscription.status)
# Covering indexes for "started/canceled in this window": new and churned supporters
# and the current month of the history read them without touching the table.
sa.Index(
    "ix_subscription_started_cover",
    Subscription.started_at,
    Subscription.status,
    Subscription.supporter_id,
    Subscription.currency,
    Subscription.interval,
    Subscription.amount,
)
sa.Index(
    "ix_subscription_canceled_cover",
    Subscription.canceled_at,
    Subscription.status,
    Subscription.supporter_id,
    Subscription.currency,
    Subscription.interval,
    Subscription.amount,
)


class StatsSnapshot(db.Model):
    """The dashboard's figures as last computed (JSON), served while fresh enough.

    `refreshing_since` marks a refresh in progress, so only one worker at a
    time recomputes the figures while the others keep serving the last ones.
    `stale_since`: the ledger changed after the figures were computed (the
    worker applied an event), so they are recomputed however young they are.
    """

    __tablename__ = "stats_snapshot"

    key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
