"""Running sale campaigns for display (catalog cards, course pages), cached per process
(core.shared_cache) until a sale is written or the next one starts or ends.

Pricing a cart or an order never reads this: price_lines asks PostgreSQL every time.
"""

from __future__ import annotations

from datetime import datetime

from app.cart import queries
from app.cart.pricing import Campaign
from app.core import shared_cache

NAMESPACE = "sales"


def _running(currency: str) -> tuple[list[Campaign], datetime | None]:
    return queries.list_active_campaigns(currency), queries.next_sale_change()


def display_campaigns(currency: str) -> list[Campaign]:
    """The campaigns running now, in the currency, as a card or course page shows them."""
    campaigns, _until = shared_cache.cached(
        NAMESPACE, currency, lambda: _running(currency), until=lambda value: value[1]
    )
    return campaigns
