"""Rows of fake supporters for `flask demo seed`: who they are, what they gave, when.

The numbers follow a plausible newsroom: growth over five years, about 3 %
monthly churn, mostly monthly gifts of $1–$20, a few yearly and one-time
gifts, some failed and refunded payments, banner attribution. Rows are plain
tuples in `COLUMNS` order, ready for COPY.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from support.account.actions import REASONS
from support.extensions import db
from support.models import CheckoutAttempt, Payment, Subscription, Supporter, SupporterChange

CHUNK = 5_000
HISTORY_DAYS = 5 * 365
MONTH = timedelta(days=30.44)
FIRST = [
    "Amal",
    "Omar",
    "Lina",
    "Sami",
    "Rana",
    "Karim",
    "Maya",
    "Yusuf",
    "Nour",
    "Hadi",
    "Alice",
    "Ben",
    "Clara",
    "David",
    "Eva",
]
LAST = [
    "Haddad",
    "Khoury",
    "Nasser",
    "Saleh",
    "Darwish",
    "Mansour",
    "Smith",
    "Jones",
    "Martin",
    "Weber",
    "Rossi",
    "Dubois",
]
MONTHLY = (100, 300, 500, 500, 1000, 1000, 1500, 2000)
YEARLY = (1000, 5000, 6000, 10000)
ONCE = (1000, 2500, 5000, 10000)
VARIANTS = ("a", "b")

COLUMNS = {
    "supporter": ("id", "email", "name", "stripe_customer_id", "lang", "first_supported_at",
                  "created_at", "updated_at"),
    "subscription": ("id", "stripe_id", "supporter_id", "status", "amount", "currency",
                     "interval", "started_at", "canceled_at", "cancel_at_period_end",
                     "current_period_end", "source", "campaign", "variant", "lang",
                     "stripe_updated", "created_at", "updated_at"),
    "payment": ("id", "stripe_id", "stripe_charge_id", "supporter_id", "subscription_id", "kind",
                "amount", "currency", "status", "paid_at", "refunded_amount", "disputed",
                "source", "campaign", "variant", "stripe_updated", "created_at"),
    "checkout_attempt": ("id", "session_id", "amount", "currency", "frequency", "cover_fees",
                         "lang", "source", "campaign", "variant", "created_at", "completed_at",
                         "supporter_id"),
    "supporter_change": ("id", "key", "attempt", "supporter_id", "subscription_id", "kind",
                         "currency", "old_amount", "new_amount", "old_interval", "new_interval",
                         "paused_until", "reason", "offer", "saved", "lang", "asked_version",
                         "created_at", "applied_at"),
}  # fmt: skip
MODELS = {
    "supporter": Supporter,
    "subscription": Subscription,
    "payment": Payment,
    "checkout_attempt": CheckoutAttempt,
    "supporter_change": SupporterChange,
}
# Of the subscriptions that ended, the share cancelled on the account page (with a
# reason), and the share of those shown a pause offer who took it instead (a save).
SELF_CANCELLED = 0.5
SAVED = 0.15


class Seeder:
    """Builds rows chunk by chunk; ids continue after what the tables already hold."""

    def __init__(self, rng: random.Random, now: datetime, currencies: Sequence[str]):
        self.rng, self.now, self.currencies = rng, now, list(currencies)
        self.next_id = {
            name: (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
            for name, model in MODELS.items()
        }
        self.rows: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
        # Account-page changes draw from their own generator, so adding them left every
        # other seeded row as it was for a given seed.
        self.changes_rng = random.Random(repr(rng.getstate()[1][:8]))

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def _currency(self) -> str:
        # The first configured currency dominates, as it does for a real newsroom.
        if len(self.currencies) == 1 or self.rng.random() < 0.8:
            return self.currencies[0]
        return self.rng.choice(self.currencies[1:])

    def _attribution(self, lang: str) -> tuple[str | None, str | None, str | None]:
        if self.rng.random() < 0.3:
            return None, None, None
        article = int(self.rng.paretovariate(1.2)) % 400
        source = f"https://news.example.org/{lang}/article-{article}"
        variant = self.rng.choice(VARIANTS) if self.rng.random() < 0.7 else None
        return source, ("banner" if variant else "article"), variant

    def supporter(self) -> None:
        """One supporter with a subscription or one-time gifts, payments and checkouts."""
        rng, now = self.rng, self.now
        sid = self._id("supporter")
        lang = "ar" if rng.random() < 0.35 else "en"
        # Density grows towards today: the newsroom gains supporters over time.
        first = now - timedelta(days=HISTORY_DAYS * (1 - math.sqrt(rng.random())))
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        self.rows["supporter"].append(
            (sid, f"reader{sid}@example.org", name, f"cus_demo{sid}", lang, first, first, first)
        )
        currency = self._currency()
        source, campaign, variant = self._attribution(lang)
        if rng.random() < 0.8:
            frequency = "month" if rng.random() < 0.87 else "year"
            amount = rng.choice(MONTHLY if frequency == "month" else YEARLY)
            self._subscription(
                sid, first, frequency, amount, currency, lang, source, campaign, variant
            )
        else:
            frequency, amount = "once", rng.choice(ONCE)
            for gift in range(1 if rng.random() < 0.7 else 2):
                paid = first + timedelta(days=gift * rng.uniform(60, 300))
                if paid < now:
                    self._payment(
                        sid, None, "one_time", amount, currency, paid, source, campaign, variant
                    )
        self._checkout(sid, first, amount, currency, frequency, lang, source, campaign, variant)

    def _subscription(
        self, sid, start, interval, amount, currency, lang, source, campaign, variant
    ):
        rng, now = self.rng, self.now
        sub_id = self._id("subscription")
        # About 3 % of subscriptions end each month.
        end = start + timedelta(days=rng.expovariate(1 / (30.44 * 33)))
        canceled_at = end if end < now else None
        status = "canceled" if canceled_at else "active"
        if status == "active" and rng.random() < 0.03:
            status = "past_due" if rng.random() < 0.8 else "paused"
        step = MONTH if interval == "month" else timedelta(days=365)
        until = canceled_at or now
        paid_at, number = start, 0
        while paid_at < until:
            last = paid_at + step >= until
            failed = last and status == "past_due"
            self._payment(sid, sub_id, "subscription", amount, currency, paid_at, source,
                          campaign, variant, failed=failed)  # fmt: skip
            paid_at, number = start + step * (number + 1), number + 1
        period_end = start + step * max(number, 1)
        stamp = int(until.timestamp())
        self._changes(sid, sub_id, amount, currency, interval, lang, canceled_at)
        self.rows["subscription"].append(
            (sub_id, f"sub_demo{sub_id}", sid, status, amount, currency, interval, start,
             canceled_at, False, period_end, source, campaign, variant, lang, stamp, start, until)
        )  # fmt: skip

    def _changes(self, sid, sub_id, amount, currency, interval, lang, canceled_at) -> None:
        """A cancellation asked for on the account page, with its reason; or a pause
        taken from the save offer instead (the subscription went on)."""
        rng = self.changes_rng
        if canceled_at is not None and rng.random() < SELF_CANCELLED:
            kind, reason, saved, at = "cancel", rng.choice(REASONS), False, canceled_at
        elif canceled_at is None and rng.random() < SAVED * 0.03:
            kind, reason, saved = "pause", None, True
            at = self.now - timedelta(days=rng.uniform(0, HISTORY_DAYS / 4))
        else:
            return
        cid = self._id("supporter_change")
        self.rows["supporter_change"].append(
            (cid, f"demo{cid}", 0, sid, sub_id, kind, currency, amount, None, interval, None,
             at + timedelta(days=61) if kind == "pause" else None, reason, "pause", saved,
             lang, int(at.timestamp() * 1e6), at, at)
        )  # fmt: skip

    def _payment(self, sid, sub_id, kind, amount, currency, paid_at, source, campaign, variant,
                 failed=False):  # fmt: skip
        pid = self._id("payment")
        status, refunded, roll = "paid", 0, self.rng.random()
        if failed:
            status = "failed"
        elif roll < 0.01:
            status, refunded = "refunded", amount
        elif roll < 0.015:
            status, refunded = "partially_refunded", amount // 2
        prefix = "in" if kind == "subscription" else "pi"
        self.rows["payment"].append(
            (pid, f"{prefix}_demo{pid}", None if failed else f"ch_demo{pid}", sid, sub_id, kind,
             amount, currency, status, None if failed else paid_at, refunded, roll > 0.9995,
             source, campaign, variant, int(paid_at.timestamp()), paid_at)
        )  # fmt: skip

    def _checkout(self, sid, first, amount, currency, frequency, lang, source, campaign, variant):
        started = first - timedelta(minutes=self.rng.uniform(1, 20))
        # Most readers who start a checkout do not finish; the banner funnel shows that.
        for _ in range(1 + int(self.rng.expovariate(1.2))):
            cid = self._id("checkout_attempt")
            moment = first - timedelta(days=self.rng.uniform(0, 20))
            self.rows["checkout_attempt"].append(
                (cid, f"cs_demo{cid}", amount, currency, frequency, False, lang, source,
                 campaign, variant, moment, None, None)
            )  # fmt: skip
        cid = self._id("checkout_attempt")
        self.rows["checkout_attempt"].append(
            (cid, f"cs_demo{cid}", amount, currency, frequency, self.rng.random() < 0.4, lang,
             source, campaign, variant, started, first, sid)
        )  # fmt: skip

    def flush(self, write: Callable[[str, Sequence[str], list[tuple]], None]) -> None:
        """Write every buffered row, parents first."""
        for table in COLUMNS:  # parents first
            if self.rows[table]:
                write(table, COLUMNS[table], self.rows[table])
                self.rows[table] = []
