"""What we know about the visitor for display: currency and locale. Views only."""

from __future__ import annotations

from flask import current_app, request, session

# Accept-Language regions whose visitors most likely pay in a non-default currency.
REGION_CURRENCY = {"IN": "INR"}


def visitor_currency() -> str:
    """The currency the visitor chose, else a guess from Accept-Language, else the default."""
    supported: tuple[str, ...] = current_app.config["SUPPORTED_CURRENCIES"]
    chosen = session.get("currency")
    if chosen in supported:
        return str(chosen)
    for lang, _q in request.accept_languages:
        region = lang.replace("_", "-").split("-")[-1].upper() if "-" in lang or "_" in lang else ""
        guess = REGION_CURRENCY.get(region)
        if guess in supported:
            return guess
    default: str = current_app.config["DEFAULT_CURRENCY"]
    return default if default in supported else supported[0]


def visitor_locale() -> str:
    """A Babel locale for formatting numbers and money."""
    best = request.accept_languages.best_match(["en_US", "en_IN", "en_GB", "hi_IN", "en"])
    return (best or "en_US").replace("-", "_")


def choose_currency(code: str) -> bool:
    """Remember the visitor's currency; False when it is not one we sell in."""
    code = code.upper()
    if code not in current_app.config["SUPPORTED_CURRENCIES"]:
        return False
    session["currency"] = code
    return True
