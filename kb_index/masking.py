"""Identifiers out of a question before it is ranked: emails, links, and numbers long
enough to be an order, card, phone or account number.

"카드 4111 1111 1111 1111 로 결제했고 환불 되나요?" is a refund question; the card number
says nothing about which article answers it, but it pulls the embedding away from the
KB and reads as wording the KB never uses (novelty), so the question looked out of
scope. Short numbers stay: "12개월", "3日", "10% off" carry meaning.
"""

from __future__ import annotations

import re

from common.pii import EMAIL, PLACEHOLDER

_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
# A run of digits, possibly split by single spaces, hyphens, dots or slashes, possibly
# led by '+' (phone) or a short letter prefix (order ids: B-7732, ORD12345, #12345).
_NUMBER_RUN = re.compile(
    r"(?<![A-Za-z0-9])(?:\+|#|[A-Za-z]{1,4}-?)?\d(?:[ \-./]?\d)+", re.IGNORECASE
)
MIN_DIGITS = 3
_SPACES = re.compile(r"\s{2,}")


def _long_number(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return " " if digits >= MIN_DIGITS else match.group(0)


def mask_identifiers(text: str) -> str:
    """`text` without emails, links, numbers of 3 or more digits, and the placeholders
    personal data was redacted to."""
    masked = PLACEHOLDER.sub(" ", text)  # what common/pii.py left of a card, phone, ...
    masked = EMAIL.sub(" ", masked)
    masked = _URL.sub(" ", masked)
    masked = _NUMBER_RUN.sub(_long_number, masked)
    return _SPACES.sub(" ", masked).strip() or text.strip()
