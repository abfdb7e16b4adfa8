"""The sandbox's documented test cards (like Stripe's) and the Luhn check every number passes.

The README's table of test cards is this one; the hosted page shows it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CardOutcome(StrEnum):
    SUCCEEDS = "succeeds"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    REQUIRES_ACTION = "requires_action"  # a 3-D Secure-like step: a second click pays


@dataclass(frozen=True)
class SandboxCard:
    number: str
    outcome: CardOutcome
    outcome_text: str
    decline_reason: str = ""

    @property
    def spaced(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


# Like Stripe's test cards; any expiry date and CVC would do, so the page asks for neither.
TEST_CARDS = (
    SandboxCard("4242424242424242", CardOutcome.SUCCEEDS, "Payment succeeds"),
    SandboxCard(
        "4000000000000002",
        CardOutcome.DECLINED,
        "Declined",
        "Your card was declined (test card 4000 0000 0000 0002).",
    ),
    SandboxCard(
        "4000000000009995",
        CardOutcome.INSUFFICIENT_FUNDS,
        "Declined: insufficient funds",
        "Your card has insufficient funds (test card 4000 0000 0000 9995).",
    ),
    SandboxCard(
        "4000002760003184",
        CardOutcome.REQUIRES_ACTION,
        "Asks you to authenticate, then succeeds",
    ),
)
CARDS = {card.number: card for card in TEST_CARDS}
SUCCESS_CARD = TEST_CARDS[0].number
DECLINE_CARD = TEST_CARDS[1].number
CHALLENGE_CARD = next(c for c in TEST_CARDS if c.outcome is CardOutcome.REQUIRES_ACTION)
AUTH_FAILED = "The card's authentication failed (test card 4000 0027 6000 3184)."


class CardRefused(ValueError):
    """A number the sandbox will not charge: the message is for the card field."""


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every real card number passes (12 to 19 digits)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def find_card(raw: str) -> SandboxCard:
    """The test card a typed number names (spaces and dashes allowed), else CardRefused."""
    digits = "".join(ch for ch in raw if ch not in " -")
    if not digits:
        raise CardRefused("Enter a test card number.")
    if not luhn_ok(digits):
        raise CardRefused("That is not a valid card number: check the digits.")
    card = CARDS.get(digits)
    if card is None:
        raise CardRefused("That is not one of the sandbox's test cards: use one from the table.")
    return card
