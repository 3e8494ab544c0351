"""Staff forms; every one carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Regexp

from support.staff.auth.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Staff sign-in: `email` and `password`."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email.")),
            Length(max=320),
            # No address holds a control character; PostgreSQL refuses NUL in a lookup.
            Regexp(r"[^\x00-\x1f\x7f]*\Z", message=_l("Enter a valid email address.")),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )


class EraseForm(FlaskForm):
    """Confirm erasing a supporter's personal data."""

    confirm = BooleanField(
        _l("I understand that the name and email are removed for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    delete_stripe_customer = BooleanField(_l("Also delete the customer at Stripe"))


class ActionForm(FlaskForm):
    """A button that changes something (replay): only the CSRF token."""


class DigestForm(FlaskForm):
    """The daily digest switch on a staff member's own account."""

    daily_digest = BooleanField(_l("Mail me the daily digest"))


def role_choices() -> list[tuple[str, str]]:
    """The roles an admin may give, with their names in the user's language."""
    return [("admin", _l("Admin")), ("editor", _l("Editor")), ("viewer", _l("Viewer"))]


def _strip(value):
    """Addresses pasted from a mail often carry a space at either end."""
    return value.strip() if isinstance(value, str) else value


def _address_field(missing) -> EmailField:
    """A required email address, trimmed and checked; `missing` says what to type."""
    return EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(missing),
            Length(max=254, message=_l("That email address is too long.")),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )


class InviteForm(FlaskForm):
    """Invite someone to the staff area: their `email` and `role`."""

    email = _address_field(_l("Enter the email address to invite."))
    role = SelectField(_l("Role"), choices=role_choices, default="viewer")


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField(_l("Role"), choices=role_choices)


class PasswordForm(FlaskForm):
    """Choose a password (invitation, reset): typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l(
                    "The password must have at least %(count)s characters.",
                    count=MIN_PASSWORD_LENGTH,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


class ForgotForm(FlaskForm):
    """Ask for a password reset link."""

    email = _address_field(_l("Enter your email."))


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=64)],
    )


class ConfirmedActionForm(FlaskForm):
    """An admin action on a supporter: a one-time token (see support/staff/actions.py)
    and a box ticked to confirm."""

    token = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    confirm = BooleanField(validators=[DataRequired(_l("Tick the box to confirm."))])


class RefundForm(ConfirmedActionForm):
    """Refund some or all of what is left of a payment."""

    amount = StringField(
        _l("Amount to refund"),
        validators=[DataRequired(_l("Enter the amount to refund.")), Length(max=32)],
    )
    # The currency the form was shown in; a form for another one is refused.
    currency = HiddenField(validators=[DataRequired(), Length(max=3)])
    reason = RadioField(
        _l("Reason"),
        choices=[
            SelectChoice("requested_by_customer", _l("The supporter asked for it")),
            SelectChoice("duplicate", _l("A duplicate payment")),
            SelectChoice("fraudulent", _l("Fraudulent")),
        ],
        default="requested_by_customer",
        validators=[InputRequired()],
    )


class CancelForm(ConfirmedActionForm):
    """End a subscription now or at the end of the paid period."""

    when = RadioField(
        _l("When"),
        choices=[
            SelectChoice("period_end", _l("At the end of the period already paid for")),
            SelectChoice("now", _l("Now")),
        ],
        default="period_end",
        validators=[InputRequired(_l("Choose when the subscription ends."))],
    )


class ResendForm(ConfirmedActionForm):
    """Send a mail again."""
