"""Forms of the console's catalog, coupon, sale and user pages. A form turns its fields into
the typed value a domain service takes (`spec()`); the service keeps the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.models import Role
from app.cart.pricing import CouponKind
from app.cart.services.coupons import CouponLimits, CouponSpec
from app.cart.services.sales import SaleSpec
from app.core.forms import DbIntegerField, text
from app.core.money import Money

WHEN = "%Y-%m-%dT%H:%M"


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None


def percent_bp(text: str) -> int:
    """'12.5' → 1250 basis points; at most two decimals."""
    try:
        value = Decimal(text.strip()) * 100
    except InvalidOperation as exc:
        raise ValidationError("Enter a number, e.g. 20 or 12.5.") from exc
    if value != value.to_integral_value():
        raise ValidationError("At most two decimals.")
    return int(value)


def minor(text: str, currency: str) -> int:
    """A major-unit amount in the currency's minor units ('10.50' USD → 1050)."""
    try:
        return Money.from_decimal(text.strip(), currency).amount
    except (ValueError, InvalidOperation) as exc:
        raise ValidationError(f"Enter an amount in {currency}, e.g. 10.00.") from exc


class ReasonForm(FlaskForm):  # type: ignore[misc]
    """Every sensitive action says why; the audit log keeps it."""

    reason = StringField(
        "Reason",
        validators=[DataRequired(message="Say why (the audit log keeps it)."), Length(max=500)],
    )


class RoleForm(ReasonForm):
    role = SelectField("New role", choices=[(r.value, r.value.title()) for r in Role])


class ReassignForm(ReasonForm):
    teacher_id = SelectField("New teacher", coerce=int, choices=[])


class GrantForm(ReasonForm):
    course_id = SelectField("Course", coerce=int, choices=[])


class RevokeForm(ReasonForm):
    course_id = HiddenField(validators=[DataRequired()])


class FeatureForm(FlaskForm):  # type: ignore[misc]
    featured = HiddenField(validators=[DataRequired()])


def currency_choices() -> list[tuple[str, str]]:
    currencies = current_app.config["SUPPORTED_CURRENCIES"]
    return [("", "—"), *((c, c) for c in currencies)]


class CouponLimitsForm(FlaskForm):  # type: ignore[misc]
    """The fields an existing coupon may change."""

    description = TextAreaField("Description", validators=[Optional(), Length(max=500)])
    max_uses = DbIntegerField("Uses in total", validators=[Optional()], minimum=1)
    max_uses_per_user = DbIntegerField("Uses per customer", validators=[Optional()], minimum=1)
    valid_from = DateTimeLocalField("Valid from (UTC)", format=WHEN, validators=[Optional()])
    valid_until = DateTimeLocalField("Valid until (UTC)", format=WHEN, validators=[Optional()])

    def limits(self) -> CouponLimits:
        return CouponLimits(
            description=self.description.data or "",
            max_uses=self.max_uses.data,
            max_uses_per_user=self.max_uses_per_user.data,
            valid_from=_utc(self.valid_from.data),
            valid_until=_utc(self.valid_until.data),
        )


class CouponForm(CouponLimitsForm):
    """A new coupon: the discount (percent, or an amount in a currency) and its limits."""

    code = StringField("Code", validators=[DataRequired(message="Enter a code."), Length(max=40)])
    kind = SelectField(
        "Kind", choices=[("percent", "Percent off"), ("fixed", "Amount off")], default="percent"
    )
    percent = StringField("Percent off", validators=[Optional()])
    amount = StringField("Amount off", validators=[Optional()])
    currency = SelectField("Currency", choices=[], validators=[Optional()])
    minimum = StringField("Minimum order", validators=[Optional()])
    max_discount = StringField("Largest discount", validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()

    def validate_percent(self, field: Field) -> None:
        if self.kind.data == "percent":
            if not field.data:
                raise ValidationError("Enter the percentage off.")
            percent_bp(field.data)

    def validate_amount(self, field: Field) -> None:
        if self.kind.data == "fixed":
            if not field.data or not self.currency.data:
                raise ValidationError("Enter the amount off and its currency.")
            minor(field.data, self.currency.data)

    def validate_minimum(self, field: Field) -> None:
        self._amount(field)

    def validate_max_discount(self, field: Field) -> None:
        self._amount(field)

    def _amount(self, field: Field) -> None:
        if field.data:
            if not self.currency.data:
                raise ValidationError("Choose the currency this amount is in.")
            minor(field.data, self.currency.data)

    def _minor(self, field: Field) -> int | None:
        return minor(field.data, self.currency.data) if field.data else None

    def spec(self) -> CouponSpec:
        fixed = self.kind.data == "fixed"
        currency = text(self.currency)
        limits = self.limits()
        return CouponSpec(
            code=text(self.code),
            kind=CouponKind.FIXED if fixed else CouponKind.PERCENT,
            percent_off_bp=0 if fixed else percent_bp(text(self.percent)),
            amount_off=Money(minor(text(self.amount), currency), currency) if fixed else None,
            currency=currency or None,
            minimum=self._minor(self.minimum),
            max_discount=self._minor(self.max_discount),
            max_uses=limits.max_uses,
            max_uses_per_user=limits.max_uses_per_user,
            valid_from=limits.valid_from,
            valid_until=limits.valid_until,
            description=limits.description,
        )


class SaleEditForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(message="Name it."), Length(max=120)])
    starts_at = DateTimeLocalField(
        "Starts (UTC)", format=WHEN, validators=[DataRequired(message="When does it start?")]
    )
    ends_at = DateTimeLocalField(
        "Ends (UTC)", format=WHEN, validators=[DataRequired(message="When does it end?")]
    )

    def window(self) -> tuple[datetime, datetime]:
        starts, ends = self.starts_at.data, self.ends_at.data
        if starts is None or ends is None:  # not reached: both are required
            raise ValueError("a sale needs its window")
        return starts.replace(tzinfo=UTC), ends.replace(tzinfo=UTC)


class SaleForm(SaleEditForm):
    """A new campaign: percent off every course or the chosen ones."""

    slug = StringField("Slug", validators=[DataRequired(message="Give it a slug."), Length(max=80)])
    percent = StringField("Percent off", validators=[DataRequired(message="Enter a percentage.")])
    all_courses = BooleanField("Every course")
    course_ids = SelectMultipleField("Courses", coerce=int, choices=[])

    def validate_percent(self, field: Field) -> None:
        percent_bp(field.data)

    def spec(self) -> SaleSpec:
        starts, ends = self.window()
        return SaleSpec(
            slug=text(self.slug),
            name=text(self.name),
            starts_at=starts,
            ends_at=ends,
            percent_off_bp=percent_bp(text(self.percent)),
            all_courses=bool(self.all_courses.data),
            course_ids=tuple(self.course_ids.data or ()),
        )
