"""English typos, read as the KB's own words before a question is ranked.

"wheres my oder", "how do i chnage my email": the misspelt word is one the KB never
uses, so the question's embedding drifts, BM25 misses the word and novelty reads it as
another topic's. English dev questions with one typo put in each were answered right
45-54 % of the time, against 88 % spelt right; corrected, 78-79 % (bench/typos.py). A word is replaced when

- it is English letters, at least MIN_LENGTH of them, and not a word the KB uses;
- a word the KB uses is one edit away and at least TYPO_RARITY times as common in English
  at large (pyspellchecker's word frequencies), or the typed word is not English at all:
  "oder" is a typo of "order" (1 768 times rarer), but "coat" (3x) and "tees" (21x) are
  words of their own, not typos of "cost" and "fees";
- one edit is a letter dropped, added or changed, or two swapped. Of several such words,
  the one the KB's questions use most wins: "fogot" is "forgot", not "foot".

Korean and Japanese are left as they are: their typos are not letter edits of this kind.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from spellchecker import SpellChecker

from common.language import detect_language

MIN_LENGTH = 4
# How much commoner in English the word meant must be than the word typed: a noisy-channel
# prior of about one typo per thousand words.
TYPO_RARITY = 1000
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_ASCII_WORD = re.compile(r"[a-z]+")


@functools.cache
def _english() -> SpellChecker:
    """pyspellchecker's English dictionary: ~0.2 s and ~27 MB, once per process, on the
    first English word it must judge (the action server's warm-up question), so a
    process that only reads articles (the gateway) never loads it."""
    return SpellChecker(language="en")


class Speller:
    """Corrects English words toward `vocabulary`: the KB's words, each with how often
    its questions use it (0 for a word only its answers use)."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        self.counts = {w: n for w, n in vocabulary.items() if _ASCII_WORD.fullmatch(w)}
        self._kb = SpellChecker(language=None, distance=1)
        self._kb.word_frequency.load_words(list(self.counts))

    def correct(self, text: str) -> str:
        """`text` with its typos of the KB's words corrected; other text unchanged."""
        if not self.counts or detect_language(text) != "en":
            return text
        return _WORD.sub(self._word, text)

    def _word(self, match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if len(lower) < MIN_LENGTH or "'" in lower or lower in self.counts:
            return word
        english = _english().word_frequency
        typed = english[lower]
        candidates = [
            c
            for c in self._kb.candidates(lower) or ()
            if c != lower and (typed == 0 or english[c] >= TYPO_RARITY * typed)
        ]
        if not candidates:
            return word
        return max(sorted(candidates), key=lambda c: self.counts.get(c, 0))
