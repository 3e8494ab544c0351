"""The appeal form: what a reader chooses, validated strictly."""

from __future__ import annotations

import re
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional, ValidationError

from support.appeal.checkout import Choice, checkout_ui
from support.attribution import Attribution
from support.choices import FREQUENCIES
from support.formatting import format_money_major
from support.money import MINIMUM_GIFT, AmountError, parse_amount

CUSTOM = "other"
_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")

AMOUNT_MESSAGES = {
    "missing": _l("Please choose or enter an amount."),
    "invalid": _l("Please enter the amount as a number, for example 5 or 7.50."),
    "too_many_decimals": _l("That amount has too many digits after the decimal point."),
    "too_small": _l("The smallest gift we can accept is %(minimum)s."),
    "too_large": _l("The largest gift we can accept online is %(maximum)s."),
}


def new_form_token() -> str:
    """A random id for one rendered form, so a double submit makes one session."""
    return secrets.token_urlsafe(18)


class AmountFields:
    """An amount as readers choose it: a preset, or `other` and `amount_other` typed
    (the appeal's form and the supporter page's "change the amount" share it)."""

    amount = StringField(_l("Amount"))
    amount_other = StringField(
        _l("Other amount"),
        validators=[Length(max=32, message=_l("Please enter a shorter amount."))],
    )

    def typed_amount(self) -> str:
        """The amount as the reader gave it: the custom field wins when filled."""
        other = (self.amount_other.data or "").strip()
        if other:
            return other
        chosen = (self.amount.data or "").strip()
        return "" if chosen == CUSTOM else chosen


class AppealForm(AmountFields, FlaskForm):
    """Amount (a preset or `other` + `amount_other`), frequency, currency, fees, email."""

    frequency = RadioField(
        _l("How often"),
        choices=[
            SelectChoice("month", _l("Monthly")),
            SelectChoice("year", _l("Yearly")),
            SelectChoice("once", _l("Once")),
        ],
        default="month",
        validate_choice=False,
    )
    currency = SelectField(_l("Currency"), validate_choice=False)
    cover_fees = BooleanField(_l("Cover the card fee"))
    email = EmailField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254, message=_l("That email address is too long.")),
            Email(
                message=_l("Please enter a valid email address, or leave it empty."),
                check_deliverability=False,
            ),
        ],
    )
    source = HiddenField()
    campaign = HiddenField()
    variant = HiddenField()
    form_token = HiddenField()
    # Set by appeal.js (`elements`): this browser runs the script our pay page needs.
    ui = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currencies = current_app.config["SUPPORT_CURRENCIES"]
        self.currency.choices = [SelectChoice(c, c.upper()) for c in currencies]
        if not self.currency.data:
            self.currency.data = currencies[0]
        if not self.form_token.data or not _FORM_TOKEN.fullmatch(self.form_token.data):
            self.form_token.data = new_form_token()
        self.amount_minor: int | None = None

    def validate_frequency(self, field):
        if field.data not in FREQUENCIES:
            raise ValidationError(_l("Please choose monthly, yearly or once."))

    def validate_currency(self, field):
        if field.data not in current_app.config["SUPPORT_CURRENCIES"]:
            raise ValidationError(_l("We cannot accept gifts in that currency."))

    def validate_amount(self, field):
        if self.currency.data not in current_app.config["SUPPORT_CURRENCIES"]:
            return  # the currency's own error is the one to show
        minimum, maximum = MINIMUM_GIFT, current_app.config["SUPPORT_MAX_AMOUNT"]
        try:
            self.amount_minor = parse_amount(
                self.typed_amount(), self.currency.data, minimum, maximum
            )
        except AmountError as error:
            raise ValidationError(
                AMOUNT_MESSAGES[error.code]
                % {
                    "minimum": format_money_major(minimum, self.currency.data),
                    "maximum": format_money_major(maximum, self.currency.data),
                }
            ) from None

    def choice(self, lang: str) -> Choice:
        """The validated choice, ready for `checkout.start_checkout`."""
        return Choice(
            amount=self.amount_minor,
            currency=self.currency.data,
            frequency=self.frequency.data,
            cover_fees=bool(self.cover_fees.data),
            lang=lang,
            attribution=Attribution.from_values(
                {
                    "source": self.source.data,
                    "campaign": self.campaign.data,
                    "variant": self.variant.data,
                }
            ),
            email=(self.email.data or "").strip() or None,
            form_token=self.form_token.data,
            ui=checkout_ui(self.ui.data),
        )
