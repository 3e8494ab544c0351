"""The account page's action forms: what a supporter may ask for, validated strictly.

Every form carries `version`: the subscription's `stripe_updated` when the form
was shown. It makes the change's idempotency key (support/account/actions.py),
so one rendered form sent twice is one change at Stripe. `offer` says that the
form is the save offer shown before a cancellation (`SUPPORT_SAVE_OFFER`).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from support.account.actions import PAUSE_MONTHS, REASONS
from support.appeal.forms import AMOUNT_MESSAGES, AmountFields
from support.formatting import format_money_major
from support.money import MINIMUM_GIFT, AmountError, parse_amount

COMMENT_LENGTH = 500
OFFERS = ("pause", "lower")

REASON_LABELS = {
    "too_expensive": _l("I cannot afford it at the moment"),
    "unused": _l("I do not read enough to keep giving"),
    "low_quality": _l("I am not happy with the journalism"),
    "switched_service": _l("I support in another way now"),
    "customer_service": _l("Something went wrong with my payments"),
    "other": _l("Another reason"),
}


class ChangeForm(FlaskForm):
    """What every action's form carries."""

    version = HiddenField()
    offer = HiddenField()

    def validate_version(self, field):
        if not (field.data or "").isdigit() or len(field.data) > 20:
            raise ValidationError(_l("This form is out of date. Please open it again."))

    def offer_taken(self) -> str | None:
        """The save offer this form is, if it is the configured one."""
        offer = self.offer.data
        configured = current_app.config["SUPPORT_SAVE_OFFER"]
        return offer if offer in OFFERS and offer == configured else None


class AmountForm(AmountFields, ChangeForm):
    """A new amount (a preset or `other` + `amount_other`) and frequency, same currency."""

    frequency = RadioField(
        _l("How often"),
        choices=[SelectChoice("month", _l("Monthly")), SelectChoice("year", _l("Yearly"))],
        validate_choice=False,
    )
    currency = HiddenField()

    def __init__(self, *args, gift_currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.gift_currency = gift_currency
        self.amount_minor: int | None = None

    def validate_frequency(self, field):
        if field.data not in ("month", "year"):
            raise ValidationError(_l("Please choose monthly or yearly."))

    def validate_currency(self, field):
        if field.data != self.gift_currency:
            raise ValidationError(_l("A gift keeps its currency. Please choose an amount again."))

    def validate_amount(self, field):
        if self.currency.data != self.gift_currency:
            return  # the currency's own error is the one to show
        currency = self.gift_currency
        minimum, maximum = MINIMUM_GIFT, current_app.config["SUPPORT_MAX_AMOUNT"]
        try:
            self.amount_minor = parse_amount(self.typed_amount(), currency, minimum, maximum)
        except AmountError as error:
            raise ValidationError(
                AMOUNT_MESSAGES[error.code]
                % {
                    "minimum": format_money_major(minimum, currency),
                    "maximum": format_money_major(maximum, currency),
                }
            ) from None


class PauseForm(ChangeForm):
    """How many months to pause for."""

    months = StringField()

    def validate_months(self, field):
        if field.data not in {str(m) for m in PAUSE_MONTHS}:
            raise ValidationError(_l("Please choose one, two or three months."))


class CancelForm(ChangeForm):
    """Why the supporter stops (one of a short list) and, if they like, in their words."""

    reason = StringField()
    comment = TextAreaField(
        _l("Anything you would like to tell us (optional)"),
        validators=[
            Length(
                max=COMMENT_LENGTH,
                message=_l("Please keep it under %(max)d characters.", max=COMMENT_LENGTH),
            )
        ],
    )

    def validate_reason(self, field):
        if field.data not in REASONS:
            raise ValidationError(_l("Please choose a reason."))


class ConfirmForm(ChangeForm):
    """A yes and nothing more (resume, undo a cancellation)."""
