"""Payments, refunds and webhook events; providers: sandbox, Stripe and Razorpay."""

from flask import Blueprint

bp = Blueprint("payments", __name__)
