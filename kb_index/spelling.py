"""How customers spell the KB's words, read as the KB spells them before a question is
ranked: English typos, and Japanese typed in kana.

"wheres my oder", "how do i chnage my email": the misspelt word is one the KB never
uses, so the question's embedding drifts, BM25 misses the word and novelty reads it as
another topic's. English dev questions with one typo put in each were answered right
48-59 % of the time, against 88 % spelt right; corrected, 75-81 % (bench/typos.py).
An English word (Speller) is replaced when

- it is English letters, at least MIN_LENGTH of them, not a word the KB uses and not a
  company's name (lexical.brand_names: "lyft" is not "left");
- a word the KB uses is one edit away and at least TYPO_RARITY times as common in English
  at large (pyspellchecker's word frequencies), or the typed word is not English at all:
  "oder" is a typo of "order" (1 768 times rarer), but "coat" (3x) and "tees" (21x) are
  words of their own, not typos of "cost" and "fees";
- one edit is a letter dropped, added or changed, or two swapped, after the first letter:
  people rarely mistype that one, and a different first letter made words of chat and
  names into the KB's ("thats" "whats", "yess" "less", "xbox" "box", "mart" "part"). Of
  several such words, the one the KB's questions use most wins: "fogot" is "forgot", not
  "foot".

Japanese typed in kana where the KB writes kanji or katakana is read the same way:
"へんぴんしたい" is "返品したい", "ぱすわーどわすれた" "パスワードわすれた" (KanaReader). Every
Japanese dev question typed all in hiragana was turned away before, 47 % are answered
right now; with one word left in kana, 44-50 % right before, 64-77 % now (bench/typos.py).

Korean is left as it is: its typos are changed letters inside a syllable, and without a
list of Korean words a typo cannot be told from another word (무료 "free", 유료 "paid").
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping

from spellchecker import SpellChecker

from common.language import detect_language
from kb_index.lexical import brand_names, japanese_readings

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
        if lower in brand_names():
            return word  # "lyft" is a company, not a typo of "left"
        english = _english().word_frequency
        typed = english[lower]
        candidates = [
            c
            for c in self._kb.candidates(lower) or ()
            if c != lower and c[0] == lower[0] and (typed == 0 or english[c] >= TYPO_RARITY * typed)
        ]
        if not candidates:
            return word
        return max(sorted(candidates), key=lambda c: self.counts.get(c, 0))


# A KB word is matched in kana only by a reading at least this long: shorter ones hide
# inside ordinary kana words and endings (いない "is not there" reads as 以内 "within").
MIN_READING = 4
_HIRAGANA_RUN = re.compile(rf"[ぁ-ゖー]{{{MIN_READING},}}")
_KANJI_OR_KATAKANA = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf゠-ヿ]")
_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


class KanaReader:
    """Japanese words typed in hiragana, read as the KB's own words written in kanji or
    katakana. `texts` are the KB's Japanese questions; their words' readings come from
    MeCab/UniDic (lexical.py), on the first Japanese question (not at load: a process
    that only reads articles never needs them)."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = tuple(texts)
        self._by_reading: dict[str, str] | None = None
        self._longest = 0
        self._lock = threading.Lock()

    def correct(self, text: str) -> str:
        """`text` with its hiragana runs read as the KB's words where they spell one."""
        if not self.texts or detect_language(text) != "ja" or not _HIRAGANA_RUN.search(text):
            return text
        return _HIRAGANA_RUN.sub(self._run, text)

    def _readings(self) -> dict[str, str]:
        with self._lock:
            if self._by_reading is None:
                used: dict[tuple[str, str], int] = {}
                for text in self.texts:
                    for surface, reading in japanese_readings(text):
                        if _KANJI_OR_KATAKANA.search(surface) and len(reading) >= MIN_READING:
                            used[(reading, surface)] = used.get((reading, surface), 0) + 1
                by_reading: dict[str, str] = {}
                # The KB's commonest spelling of a reading wins (ties: the first in order).
                for (reading, surface), _ in sorted(used.items(), key=lambda kv: (-kv[1], kv[0])):
                    by_reading.setdefault(reading, surface)
                self._longest = max(map(len, by_reading), default=0)
                self._by_reading = by_reading
            return self._by_reading

    def _run(self, match: re.Match[str]) -> str:
        """Left to right, the longest KB reading that starts here, else the kana as typed."""
        readings = self._readings()
        typed = match.group(0)
        kana = typed.translate(_TO_KATAKANA)
        out: list[str] = []
        i = 0
        while i < len(kana):
            for length in range(min(self._longest, len(kana) - i), MIN_READING - 1, -1):
                surface = readings.get(kana[i : i + length])
                if surface is not None:
                    out.append(surface)
                    i += length
                    break
            else:
                out.append(typed[i])
                i += 1
        return "".join(out)
