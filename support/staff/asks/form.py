"""The form staff write an ask with: the group (the supporters list's filters, in one
currency), the new amount, and the subject and body in English and Arabic."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from support.asks import queueing
from support.form_values import whole_number
from support.formatting import format_money_major
from support.money import MINIMUM_GIFT, AmountError, exponent, parse_amount
from support.staff.supporters.queries import MAX_MONTHS, Filters

ONE_LINE = Regexp(r"[^\x00-\x1f\x7f]*\Z", message=_l("Write the subject on one line."))
NO_CONTROL = Regexp(
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z", message=_l("Remove the odd characters.")
)
BODY_LENGTH = 5000


def _subject(label, missing):
    return StringField(
        label,
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(missing), Length(max=200), ONE_LINE],
    )


def _body(label, missing):
    return TextAreaField(
        label,
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(missing),
            Length(max=BODY_LENGTH, message=_l("At most %(max)d characters.")),
            NO_CONTROL,
        ],
    )


class AskForm(FlaskForm):
    """An upgrade ask; `token` is its one-time token (a double submit sends once)."""

    token = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    q = StringField(_l("Email or name"), validators=[Length(max=200)])
    currency = SelectField(_l("Currency"))
    interval = SelectField(_l("Interval"))
    lang = SelectField(_l("Language"))
    months = StringField(_l("Giving for at least (months)"), validators=[Length(max=8)])
    under = StringField(_l("Gift under"), validators=[Length(max=20)])
    rule = RadioField(
        _l("New amount"),
        choices=[
            SelectChoice("set", _l("One amount for everyone")),
            SelectChoice("plus", _l("Each gift plus an amount")),
        ],
        default="set",
        validators=[InputRequired()],
    )
    amount = StringField(
        _l("Amount"), validators=[DataRequired(_l("Enter the amount to ask for.")), Length(max=20)]
    )
    subject_en = _subject(_l("Subject in English"), _l("Write the subject in English."))
    body_en = _body(_l("Mail in English"), _l("Write the mail in English."))
    subject_ar = _subject(_l("Subject in Arabic"), _l("Write the subject in Arabic."))
    body_ar = _body(_l("Mail in Arabic"), _l("Write the mail in Arabic."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currencies = current_app.config["SUPPORT_CURRENCIES"]
        self.currency.choices = [(c, c.upper()) for c in currencies]
        self.interval.choices = [("", _l("Any")), ("month", _l("monthly")), ("year", _l("yearly"))]
        self.lang.choices = [("", _l("Any")), ("en", _l("English")), ("ar", _l("Arabic"))]
        self.amount_minor = 0

    def validate_months(self, field) -> None:
        text = (field.data or "").strip()
        if text and whole_number(text, MAX_MONTHS) is None:
            message = _l("Enter a whole number of months, up to %(max)s.", max=MAX_MONTHS)
            raise ValidationError(message)

    def validate_under(self, field) -> None:
        text = (field.data or "").strip()
        if not text or self.currency.data not in dict(self.currency.choices):
            return
        try:
            parse_amount(text, self.currency.data, Decimal(0), Decimal(10**12))
        except AmountError:
            raise ValidationError(_l("Enter the amount in digits, like 5 or 2.50.")) from None

    def validate_amount(self, field) -> None:
        currency = self.currency.data
        if currency not in dict(self.currency.choices):
            return
        smallest = Decimal(1).scaleb(-exponent(currency))
        minimum = MINIMUM_GIFT if self.rule.data == "set" else smallest
        maximum = current_app.config["SUPPORT_MAX_AMOUNT"]
        try:
            self.amount_minor = parse_amount(field.data or "", currency, minimum, maximum)
        except AmountError as error:
            if error.code == "too_small":
                message = _l("At least %(amount)s.", amount=format_money_major(minimum, currency))
            elif error.code == "too_large":
                message = _l("At most %(amount)s.", amount=format_money_major(maximum, currency))
            elif error.code == "too_many_decimals":
                message = _l("Too many decimals for this currency.")
            else:
                message = _l("Enter the amount in digits, like 5 or 2.50.")
            raise ValidationError(message) from None

    def filters(self) -> Filters:
        """The group's filters, as the supporters list reads them."""
        fields = ("q", "currency", "interval", "lang", "months", "under")
        return Filters.from_args({name: (getattr(self, name).data or "") for name in fields})

    def draft(self) -> queueing.Draft:
        """The ask as written (after `validate()`)."""
        return queueing.Draft(
            filters=self.filters(),
            currency=self.currency.data,
            rule=self.rule.data,
            amount=self.amount_minor,
            subject_en=self.subject_en.data,
            body_en=self.body_en.data,
            subject_ar=self.subject_ar.data,
            body_ar=self.body_ar.data,
        )
