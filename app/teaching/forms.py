"""Studio forms. Prices get one field per supported currency (`price_usd`, ...), so the form
class is built per currency list."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import DataRequired, Length

from app.catalog.models import LANGUAGES, CourseLevel
from app.core.forms import text
from app.core.periods import UNITS
from app.teaching.services import CourseDetails, PriceChoice, parse_period, parse_price

TITLE = [DataRequired(message="Give it a title."), Length(max=200)]


class NewCourseForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=TITLE)
    subtitle = StringField("Subtitle", validators=[Length(max=300)])


class CourseForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=TITLE)
    subtitle = StringField("Subtitle", validators=[Length(max=300)])
    description = TextAreaField(
        "Description",
        validators=[Length(max=20_000)],
        description="Markdown: **bold**, *italic*, lists, links, ## headings.",
    )
    category = SelectField("Category", choices=[], validate_choice=False)
    level = SelectField("Level", choices=[SelectChoice(lv.value, lv.label) for lv in CourseLevel])
    language = SelectField(
        "Language", choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()]
    )
    free = BooleanField("Free course", description="Free in every currency; prices are ignored.")

    def price_fields(self) -> list[Any]:
        return [f for f in self if f.name.startswith("price_")]

    def price_rows(self) -> list[tuple[Any, Any, Any]]:
        """Per currency: its price field, its access period's number and unit fields."""
        return [
            (f, self[f"period_{name}"], self[f"period_unit_{name}"])
            for f in self.price_fields()
            for name in [f.name.removeprefix("price_")]
        ]

    def prices_text(self) -> dict[str, str]:
        return {f.name.removeprefix("price_").upper(): text(f) for f in self.price_fields()}

    def category_id(self) -> int | None:
        raw = text(self.category)
        return int(raw) if raw.isdigit() else None

    def details(self) -> CourseDetails:
        return CourseDetails(
            title=text(self.title),
            subtitle=text(self.subtitle),
            description_md=text(self.description),
            category_id=self.category_id(),
            level=CourseLevel(text(self.level) or CourseLevel.ALL.value),
            language=text(self.language),
        )

    def price_choice(self, currencies: tuple[str, ...]) -> PriceChoice:
        """The prices typed in, parsed per currency exponent (a DomainError names the field)."""
        if self.free.data:
            return PriceChoice(free=True)
        typed = self.prices_text()
        parsed = {c: parse_price(typed.get(c, ""), c) for c in currencies}
        prices = {c: m for c, m in parsed.items() if m is not None}
        periods = {}
        for c in currencies:
            value, unit = self[f"period_{c.lower()}"], self[f"period_unit_{c.lower()}"]
            period = parse_period(text(value), text(unit), c, priced=c in prices)
            if period is not None:
                periods[c] = period
        return PriceChoice(prices=prices, periods=periods)


PERIOD_UNITS = [SelectChoice(unit, f"{unit.capitalize()}s") for unit in UNITS]


def _price_fields(currency: str) -> dict[str, Any]:
    """A currency's price, and how long buying at it gives access (a number and a unit)."""
    name = currency.lower()
    return {
        f"price_{name}": StringField(
            f"Price in {currency}",
            validators=[Length(max=20)],
            description="Leave blank: not sold in it.",
        ),
        f"period_{name}": StringField(
            f"Access in {currency}",
            validators=[Length(max=20)],
            description="Leave blank: lifetime access.",
        ),
        # Checked by parse_period, which says what is wrong (not WTForms' "Not a valid choice").
        f"period_unit_{name}": SelectField(
            f"Access unit in {currency}",
            choices=PERIOD_UNITS,
            default="month",
            validate_choice=False,
        ),
    }


@cache
def course_form_class(currencies: tuple[str, ...]) -> type[CourseForm]:
    """CourseForm with a price field and an access period for each currency."""
    fields = {k: v for c in currencies for k, v in _price_fields(c).items()}
    return type("PricedCourseForm", (CourseForm,), fields)


class TitleForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=TITLE)


class LectureForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=TITLE)
    description = TextAreaField("Description", validators=[Length(max=20_000)])
    is_preview = BooleanField(
        "Free preview", description="Anyone can watch a preview lecture on the course page."
    )


class CoverForm(FlaskForm):  # type: ignore[misc]
    cover = FileField(
        "Cover image", description="JPEG, PNG or WebP, at least 320x180, 10 MB at most."
    )


class AttachmentForm(FlaskForm):  # type: ignore[misc]
    file = FileField("Attach a PDF or zip")


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """CSRF only: buttons that post."""
