"""The visitor's cart for views: a random token in a signed, HttpOnly cookie, or the user's cart.

Shared by the cart's views and by other domains' pages that show cart state (course pages).
"""

from __future__ import annotations

from flask import current_app, g, request
from flask.wrappers import Response
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts.access import viewer
from app.cart import queries
from app.cart.models import Cart
from app.cart.services import open_cart
from app.core.visitor import visitor_currency

COOKIE = "cart"
COOKIE_MAX_AGE = 30 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="cart-token")  # type: ignore[arg-type]


def cookie_token() -> str | None:
    """The cart token from the signed cookie; None when absent or tampered with."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def anonymous_cart() -> Cart | None:
    """The cart the cookie names, if it belongs to nobody (a user's cart needs their login)."""
    token = cookie_token()
    cart = queries.get_cart_by_token(token) if token else None
    return cart if cart is not None and cart.user_id is None else None


def current_cart(create: bool = False) -> Cart | None:
    """The logged-in user's cart, else the cookie's anonymous cart; made on demand."""
    cart: Cart | None = g.get("cart")
    if cart is not None:
        return cart
    user = viewer()
    cart = queries.get_user_cart(user.id) if user else anonymous_cart()
    if cart is None and create:
        cart = open_cart(visitor_currency(), user)
        if user is None:
            g.new_cart_token = cart.token
    if cart is not None:
        g.cart = cart  # one lookup per request, and a cart opened now is seen by what follows
    return cart


def forget_new_cart() -> None:
    """The transaction that opened this request's cart rolled back, and the cart with it: the
    rest of the request and the browser no longer hear of it."""
    g.pop("cart", None)
    g.pop("new_cart_token", None)


def set_cart_cookie(response: Response) -> Response:
    """After a request that opened an anonymous cart, hand its token to the browser."""
    token = g.pop("new_cart_token", None)
    if token:
        response.set_cookie(
            COOKIE,
            _serializer().dumps(token),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response
