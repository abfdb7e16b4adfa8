"""Checkout, orders and their items, idempotency keys, fulfilment and the order pages."""

from flask import Blueprint

bp = Blueprint("checkout", __name__)
