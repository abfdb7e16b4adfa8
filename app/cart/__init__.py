"""Cart, pricing engine, coupons, sale campaigns and tax rules."""

from flask import Blueprint

bp = Blueprint("cart", __name__)
