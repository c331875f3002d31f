"""How customers spell the KB's words, read as the KB spells them before a question is
ranked: English and Korean typos, and Japanese typed in kana.

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

Korean typos of the KB's words are read the same way (HangulReader): spelt by sound
("환불 언재 되요") through kiwipiepy's typo model, one jamo off ("반픔", "화불", "배송바")
against the KB's words where Kiwi's dictionary does not know the typed word (배송지 is a
word, not a typo of 배송비), or where it does but the two sound alike (결재 for 결제).
Korean dev questions with one typo put in each were answered right 50-67 % of the time,
against 82 % spelt right; corrected, 65-86 % (a slipped key 58-60 -> 68-74 %, a vowel by
sound 64-67 -> 81-86 %, a final consonant dropped 50-57 -> 65-71 %; wrong answers no more
often) (bench/typos.py).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from spellchecker import SpellChecker

from common.language import detect_language
from kb_index.lexical import brand_names, japanese_readings, korean_tokens

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


# Korean: the KB's words a mistyped Korean word is read as (nouns, adverbs, roots) ...
_KO_WORD_TAGS = frozenset({"NNG", "NNP", "MAG", "XR"})
# ... and the morphemes of a compound noun (상품+권, 비밀+번호): a KB compound is a word
# too, and a run of them in a question may be one mistyped (화불 reads as 화 + prefix 불).
# Never a particle or an ending (전에 is not 전체, 누가 not 추가).
_KO_COMPOUND_TAGS = frozenset({"NNG", "NNP", "XPN", "XSN"})
# One syllable is too short: most of them are a jamo away from several words.
MIN_KOREAN_WORD = 2
_HANGUL_RUN = re.compile(r"[가-힣]+")
# A precomposed Hangul syllable is (initial, vowel, final) in these orders (Unicode's).
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS_COUNT = 28  # no final, then 27 consonants
# Vowels that sound alike.
_VOWELS_ALIKE = ("ㅐㅔ", "ㅒㅖ", "ㅙㅚㅞ")
_FIRST_SYLLABLE = 0xAC00


def jamo(syllable: str) -> tuple[int, int, int]:
    """(initial, vowel, final) of a precomposed Hangul syllable, as indices."""
    n = ord(syllable) - _FIRST_SYLLABLE
    per_initial = len(VOWELS) * FINALS_COUNT
    return n // per_initial, (n % per_initial) // FINALS_COUNT, n % FINALS_COUNT


def syllable(initial: int, vowel: int, final: int) -> str:
    """The precomposed syllable of jamo() indices."""
    return chr(_FIRST_SYLLABLE + (initial * len(VOWELS) + vowel) * FINALS_COUNT + final)


def one_jamo_apart(typed: str, word: str) -> bool:
    """One letter of one syllable differs: a key slipped on the two-set keyboard (반픔),
    a vowel spelt by sound (배송비/베송비), a final consonant dropped or added (화불)."""
    if len(typed) != len(word) or typed == word:
        return False
    differing = [i for i, (a, b) in enumerate(zip(typed, word)) if a != b]
    if len(differing) != 1:
        return False
    a, b = jamo(typed[differing[0]]), jamo(word[differing[0]])
    return sum(x != y for x, y in zip(a, b)) == 1


def sound_alike(typed: str, word: str) -> bool:
    """One jamo apart, and that jamo a vowel spoken alike (ㅐ/ㅔ, ㅒ/ㅖ, ㅙ/ㅚ/ㅞ): 결재 for
    결제, 되 for 돼. Customers cannot hear which one a word is spelt with."""
    if not one_jamo_apart(typed, word):
        return False
    i = next(i for i, (a, b) in enumerate(zip(typed, word)) if a != b)
    a, b = VOWELS[jamo(typed[i])[1]], VOWELS[jamo(word[i])[1]]
    return a != b and any(a in group and b in group for group in _VOWELS_ALIKE)


@functools.lru_cache(maxsize=65536)
def _korean_words(text: str) -> tuple[str, ...]:
    """The words of one Korean KB question (cached: self-calibration builds an index per
    fold from the same questions): Kiwi's nouns, adverbs and roots, and the compounds it
    splits (비밀+번호, 상품+권), as customers' typos of them are single unknown words."""
    tokens = korean_tokens(text)
    words = [t.form for t in tokens if t.tag in _KO_WORD_TAGS]
    compound: list[Any] = []
    for token in [*tokens, None]:
        if (
            token is not None
            and token.tag in _KO_COMPOUND_TAGS
            and (not compound or token.start == compound[-1].end)
        ):
            compound.append(token)
            continue
        if len(compound) > 1:
            words.append(text[compound[0].start : compound[-1].end])
        compound = [token] if token is not None and token.tag in _KO_COMPOUND_TAGS else []
    return tuple(w for w in words if len(w) >= MIN_KOREAN_WORD and _HANGUL_RUN.fullmatch(w))


class HangulReader:
    """Korean typos of the KB's words, read as those words. `texts` are the KB's Korean
    questions; their words come from Kiwi (lexical.py) on the first Korean question.

    - Spelt by sound (언재 for 언제, ㅐ/ㅔ, 되/돼): Kiwi's own typo model finds the word;
      it is taken when the KB uses that word.
    - One jamo off (반픔 for 반품, 화불 for 환불, 배송바 for 배송비): a run of nouns Kiwi
      does not know as one word, one jamo from a word the KB uses; of several, the one
      the KB's questions use most. Kiwi's dictionary tells a typo from a word: 배송지
      "address" is not read as 배송비 "shipping fee". Except where the two sound alike:
      결재 "approval" is how customers write 결제 "payment" (ㅐ and ㅔ are one sound).
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = tuple(texts)
        self._counts: dict[str, int] | None = None
        # A word with one syllable left out -> the words it comes from: the candidates
        # one jamo from a typed word are looked up, not scanned.
        self._by_gap: dict[tuple[str, str], list[str]] = {}
        self._longest = 0
        self._lock = threading.Lock()

    def correct(self, text: str) -> str:
        """`text` with its Korean typos of the KB's words corrected; other text unchanged."""
        if not self.texts or detect_language(text) != "ko":
            return text
        counts = self._vocabulary()
        if not counts:
            return text
        edits: dict[int, tuple[int, str]] = {}
        for token in korean_tokens(text, typos=True):
            typed = text[token.start : token.end]
            if (
                token.typo_cost > 0
                and token.tag in _KO_WORD_TAGS
                and token.form in counts
                and len(typed) == len(token.form) != 0
                and typed != token.form
            ):
                edits[token.start] = (token.end, token.form)
        tokens = korean_tokens(text)
        known = {(t.start, t.end) for t in tokens if not t.oov and text[t.start : t.end] == t.form}
        noun_end = {t.start: t.end for t in tokens if t.tag in _KO_COMPOUND_TAGS or t.oov}
        for run in _HANGUL_RUN.finditer(text):
            for start in range(run.start(), run.end()):
                if start in noun_end and start not in edits:
                    found = self._nearest(text, start, run.end(), noun_end, known)
                    if found is not None:
                        edits[start] = found
        out: list[str] = []
        position = 0
        for start in sorted(edits):
            end, word = edits[start]
            if start >= position:
                out += [text[position:start], word]
                position = end
        out.append(text[position:])
        return "".join(out)

    def _nearest(
        self,
        text: str,
        start: int,
        limit: int,
        noun_end: dict[int, int],
        known: set[tuple[int, int]],
    ) -> tuple[int, str] | None:
        """(end, KB word) for the longest run of compound parts from `start` that is a typo of a KB
        word; None when that run, or a shorter one, is already a word."""
        counts = self._vocabulary()
        # No run longer than the KB's longest word can be a typo of one: a 2 000-character
        # message of nouns costs a walk per start, not the whole message per start.
        limit = min(limit, start + self._longest)
        ends = []
        end = start
        while end in noun_end and noun_end[end] <= limit:
            end = noun_end[end]
            ends.append(end)
        for end in reversed(ends):
            typed = text[start:end]
            if len(typed) < MIN_KOREAN_WORD:
                continue
            if typed in counts:
                return None
            near = {
                word
                for i in range(len(typed))
                for word in self._by_gap.get((typed[:i], typed[i + 1 :]), ())
                if one_jamo_apart(typed, word)
            }
            if (start, end) in known:
                # A word of its own, unless it sounds the same as the KB's: 결재 "approval"
                # is how customers spell 결제 "payment" (ㅐ and ㅔ sound alike).
                near = {word for word in near if sound_alike(typed, word)}
                if not near:
                    return None
            if near:
                return end, max(sorted(near), key=counts.__getitem__)
        return None

    def _vocabulary(self) -> dict[str, int]:
        with self._lock:
            if self._counts is None:
                counts: dict[str, int] = {}
                for text in self.texts:
                    for word in _korean_words(text):
                        counts[word] = counts.get(word, 0) + 1
                for word in counts:
                    for i in range(len(word)):
                        self._by_gap.setdefault((word[:i], word[i + 1 :]), []).append(word)
                self._longest = max(map(len, counts), default=0)
                self._counts = counts
            return self._counts
