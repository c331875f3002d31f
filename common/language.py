"""Which of our languages (ko, ja, en) a message is written in, from its script.

Script is a strong signal for these three: Hangul means Korean, kana means
Japanese, and Latin letters alone mean English. Han characters without kana are
read as Japanese (Korean customers rarely type Hanja). A message too short to
tell ("ok", "?", an emoji) returns None so the caller keeps the language it
already had instead of flipping a Korean conversation to English.
"""

from __future__ import annotations

from typing import Optional

SUPPORTED_LANGUAGES = ("ko", "ja", "en")
DEFAULT_LANGUAGE = "en"

# Latin-only messages shorter than this many letters, in one word, are too
# ambiguous to switch language on: "ok", "no", "thx" are typed by everyone.
_MIN_LATIN_LETTERS = 4


def _is_hangul(ch: str) -> bool:
    code = ord(ch)
    return (
        0xAC00 <= code <= 0xD7A3  # syllables
        or 0x1100 <= code <= 0x11FF  # jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo: ㅋㅋ, ㄱㅅ
    )


def _is_kana(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF


def _is_latin(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def detect_language(text: str) -> Optional[str]:
    """Return "ko", "ja" or "en" when the script says so, else None."""
    hangul = kana = han = latin = 0
    for ch in text:
        if _is_hangul(ch):
            hangul += 1
        elif _is_kana(ch):
            kana += 1
        elif _is_han(ch):
            han += 1
        elif _is_latin(ch):
            latin += 1
    if hangul and hangul >= kana:
        return "ko"
    if kana or han:
        return "ja"
    if latin:
        words = [w for w in text.split() if any(_is_latin(c) for c in w)]
        if len(words) >= 2 or latin >= _MIN_LATIN_LETTERS:
            return "en"
    return None
