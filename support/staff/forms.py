"""Staff forms; every one carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """Staff sign-in: `email` and `password`."""

    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=320)]
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
