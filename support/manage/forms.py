"""The manage page's form: one email address (and CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length


class ManageForm(FlaskForm):
    """The address the supporter gave when they paid."""

    email = EmailField(
        _l("Your email address"),
        # Addresses pasted from a mail often carry a space at either end.
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message=_l("Please enter the email address you used to give.")),
            Length(max=254, message=_l("That email address is too long.")),
            Email(message=_l("Please enter a valid email address."), check_deliverability=False),
        ],
    )
