"""Checkout forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.checkout.invoices import BuyerDetails
from app.checkout.tax_lines import (
    INDIAN_STATES,
    buyer_state,
    is_eu_vat_id,
    is_gstin,
    normalise_tax_id,
    state_name,
)
from app.core.security import new_token

STATE_CHOICES = [SelectChoice("", "Choose your state (optional)")] + [
    SelectChoice(code, f"{name} ({code})")
    for code, name in sorted(INDIAN_STATES.items(), key=lambda c: c[1])
]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CheckoutForm(FlaskForm):  # type: ignore[misc]
    provider = RadioField("Pay with", choices=[], validators=[InputRequired("Choose how to pay.")])
    billing_name = StringField(
        "Billing name",
        filters=[_strip],
        validators=[Optional(), Length(max=200, message="Keep the name under 200 characters.")],
        description="The name your receipt shows.",
    )
    tax_id = StringField(
        "GSTIN / VAT ID",
        filters=[normalise_tax_id],
        validators=[Optional()],
        description="Optional, for a business invoice: a GSTIN or an EU VAT ID.",
    )
    state = SelectField(
        "State",
        choices=STATE_CHOICES,
        validators=[Optional()],
        description="Where you are in India: it decides CGST + SGST or IGST.",
    )
    accept_terms = BooleanField(
        "I accept the terms of sale and the refund policy",
        validators=[DataRequired("Please accept the terms to continue.")],
    )
    # A fresh key on every render: a double click or a resubmit replays the first answer.
    idempotency_key = HiddenField(default=new_token, validators=[Length(min=8, max=100)])
    # Set by the view for an INR cart: only then is the State field shown and used.
    offers_state = False

    def validate_tax_id(self, field: Field) -> None:
        value = field.data or ""
        if not value or is_eu_vat_id(value):
            return
        if is_gstin(value):
            if state_name(value[:2]) is None:
                raise ValidationError(f"{value[:2]} is not an Indian state code: check the GSTIN.")
            return
        if value[:2].isdigit():
            raise ValidationError(
                "A GSTIN has 15 characters: the 2-digit state code, the PAN, the entity number, "
                "Z and a check character (e.g. 29ABCDE1234F1Z5)."
            )
        raise ValidationError(
            "An EU VAT ID starts with its country code, then 2 to 13 letters or digits "
            "(e.g. DE123456789)."
        )

    def validate_state(self, field: Field) -> None:
        tax_id = self.tax_id.data or ""
        if not self.offers_state:
            field.data = ""  # not asked for: nothing sent for it is kept
        elif field.data and is_gstin(tax_id) and tax_id[:2] != field.data:
            raise ValidationError(
                f"Your GSTIN is registered in {state_name(tax_id[:2])} ({tax_id[:2]}): choose "
                "that state, or leave State empty."
            )

    def buyer_details(self, default_name: str) -> BuyerDetails:
        """What the invoice names: the billing name (else the account's), tax id and state
        (the GSTIN's state when there is one)."""
        tax_id = self.tax_id.data or None
        region = buyer_state(self.state.data or None, tax_id) if self.offers_state else None
        return BuyerDetails(
            name=self.billing_name.data or default_name, tax_id=tax_id, region=region
        )

    def fingerprint(self) -> dict[str, Any]:
        """What the request asks for, for the idempotency check."""
        return {
            "provider": self.provider.data,
            "terms": self.accept_terms.data,
            "buyer": [self.billing_name.data or "", self.tax_id.data or "", self.state.data or ""],
        }
