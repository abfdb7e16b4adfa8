"""Checkout's domain errors."""

from __future__ import annotations

from app.checkout.models import Order
from app.core.errors import DomainError


class OrderError(DomainError):
    status = 422


class CartAlreadyOrdered(OrderError):
    """The cart was emptied by an order that still waits for payment: that order is the answer."""

    def __init__(self, order: Order) -> None:
        super().__init__(
            "This cart was already ordered: pay for that order, or add courses again.",
            code="cart_already_ordered",
        )
        self.order = order
