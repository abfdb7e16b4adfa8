"""Cart forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.core.forms import DbIntegerField, country_choices


class AddToCartForm(FlaskForm):  # type: ignore[misc]
    course_id = DbIntegerField(validators=[DataRequired()], minimum=1)
    next = HiddenField()


class CouponForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Coupon code", validators=[DataRequired(message="Enter a code."), Length(max=40)]
    )


class CurrencyForm(FlaskForm):  # type: ignore[misc]
    currency = SelectField("Currency", choices=[])
    next = HiddenField()


class CountryForm(FlaskForm):  # type: ignore[misc]
    country = SelectField("Your country", choices=[], description="Sets the tax that applies.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class EmptyForm(FlaskForm):  # type: ignore[misc]
    pass
