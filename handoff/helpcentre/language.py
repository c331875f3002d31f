"""Which language a help-centre page is shown in: `?lang=` when it is ko, ja or en, else
the reader's best supported choice in `Accept-Language`, else English; and each language's
name for the switcher."""

from __future__ import annotations

from collections.abc import Mapping

from common.language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

# Each language's name in itself, for the switcher: the same whatever the page's language,
# so no translation (and not in data/helpcentre_texts.yml); one per SUPPORTED_LANGUAGES.
LANGUAGE_NAMES = {"ko": "한국어", "ja": "日本語", "en": "English"}
# A header longer than this is no browser's; its tail is not read (bounded work per request).
_MAX_HEADER_CHARS = 1000


def page_language(query: Mapping[str, str], accept_language: str | None) -> str:
    """`lang` from the query if supported, else the best of `accept_language`, else en."""
    asked = query.get("lang", "")
    if asked in SUPPORTED_LANGUAGES:
        return asked
    return best_accepted(accept_language or "") or DEFAULT_LANGUAGE


def best_accepted(header: str) -> str | None:
    """The supported language with the highest weight in an Accept-Language header
    ("ko-KR,ko;q=0.9,en;q=0.8" -> ko); the earlier one on a tie; None when it names
    none of ours. Malformed items are skipped, never an error."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header[:_MAX_HEADER_CHARS].split(",")):
        tag, _, params = item.strip().partition(";")
        language = tag.strip().split("-", 1)[0].lower()
        if language not in SUPPORTED_LANGUAGES:
            continue
        weight = _weight(params)
        if weight <= 0:
            continue  # q=0: "not this one"
        if best is None or (weight, -position) > (best[0], -best[1]):
            best = (weight, position, language)
    return best[2] if best else None


def _weight(params: str) -> float:
    """The q value of one item's parameters (1 when absent, 0 when unreadable)."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0
