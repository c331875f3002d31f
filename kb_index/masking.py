"""What says nothing about which article answers a question, taken out before it is
ranked.

- Identifiers: emails, links, and numbers long enough to be an order, card, phone or
  account number. "카드 4111 1111 1111 1111 로 결제했고 환불 되나요?" is a refund question;
  the card number pulls the embedding away from the KB and reads as wording the KB never
  uses (novelty), so the question looked out of scope. Short numbers stay: "12개월", "3日",
  "10% off" carry meaning.
- The shop's own names (the KB's `shop_names`, articles.py). Only the article about the
  company uses them in its questions, so "마루스토어에서 산 옷 반품 어떻게 해요" ranked that
  article first and was turned away, and "maru store wont take my card" too. Each name
  reads as a plain "the shop" in its own language, in the KB's questions and customers'
  alike: "is maru store legit" still finds the company article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from common.language import detect_language
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


# What a shop name reads as, in the language of the name.
PLAIN_SHOP = {"ko": "쇼핑몰", "ja": "ショップ", "en": "the shop"}


class ShopNames:
    """Replaces the shop's own names with a plain "the shop". A space in a name matches
    any spacing, none included ("마루 스토어" matches "마루스토어"), and a hyphen; case is
    ignored; a Latin name matches whole words only ("maru store", not "marustores")."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
        self._plain: dict[str, str] = {}
        patterns = []
        for name in sorted(self.names, key=len, reverse=True):  # the longest name wins
            body = r"[\s\-]*".join(re.escape(part) for part in name.split())
            if name.isascii():
                body = rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
            patterns.append(body)
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(self._replacement, text)

    def _replacement(self, match: re.Match[str]) -> str:
        return PLAIN_SHOP.get(detect_language(match.group(0)) or "en", PLAIN_SHOP["en"])


def mask_question(text: str, shop_names: ShopNames) -> str:
    """`text` as it is ranked: identifiers out, shop names plain."""
    return _SPACES.sub(" ", shop_names(mask_identifiers(text))).strip() or text.strip()
