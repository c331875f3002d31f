"""How much of a question's wording the knowledge base has never used.

Near-miss questions ("reset my netflix password", "スタバのギフトカード残高")
embed right next to real FAQ questions; what gives them away is words the KB
never mentions. English is compared word by word (a brand name is one unknown
word; its letter pairs are all familiar). Korean and Japanese are compared by
character bigrams: Japanese has no spaces, and Korean words carry particles
that would make whole words look new. Text is NFKC-normalised and lower-cased.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"\w+")


def terms(text: str) -> set[str]:
    """Latin-script words whole (longer than two letters, not numbers); Korean
    and Japanese as character bigrams."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    found: set[str] = set()
    for word in _WORD.findall(normalised):
        if word.isascii():
            if len(word) > 2 and not word.isdigit():
                found.add(word)
        elif len(word) == 1:
            found.add(word)
        else:
            found.update(word[i : i + 2] for i in range(len(word) - 1))
    return found


class Lexicon:
    """Every term (see `terms`) of the KB's questions and answers."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._known: set[str] = set()
        for text in texts:
            self._known |= terms(text)

    def novelty(self, text: str) -> float:
        """Share of the text's terms that appear nowhere in the KB (0 = all known)."""
        found = terms(text)
        if not found:
            return 0.0
        return len(found - self._known) / len(found)
