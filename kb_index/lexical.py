"""The lexical side of retrieval: a question's content words, per language.

Korean is split into morphemes by kiwipiepy (its model ships in the kiwipiepy-model
wheel), Japanese by MeCab through fugashi with the UniDic dictionary of the unidic-lite
wheel, English by a regular expression. Only content words count (nouns, verbs,
adjectives, foreign words; no particles or endings): 배송언제와요 and 배송 언제 와요 give
the same terms, and 届く / 届きます the same lemma.

The terms feed three things:
- BM25 over the KB's articles (bm25s): a lexical leg fused with the dense ranking,
  with a weight self-calibration picks per language (0 where it does not help);
- novelty: the share of the question's content words the KB never uses (questions
  about other companies, "넷플릭스 비번", "スタバの残高", embed right next to real FAQs);
- unknown proper nouns: a brand or place the KB never names is a strong out-of-scope sign
  (English chat is lower case, so its names come from a list: brand_names.yml).

The analysers load lazily, once per process (rasa-sdk's server forbids heavy work at
import time).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import yaml

from common.language import detect_language

_KO_CONTENT = {"NNG", "NNP", "VV", "VA", "XR", "SL", "SH", "MAG"}
_KO_PROPER = {"NNP", "SL"}  # proper nouns, and Latin-script words inside Korean
_JA_CONTENT = {"名詞", "動詞", "形容詞", "副詞", "形状詞"}
_JA_SKIP = {"数詞", "非自立可能", "代名詞"}
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_LATIN_WORD = re.compile(r"[a-z]{3,}")
BRAND_NAMES_FILE = Path(__file__).with_name("brand_names.yml")
# Words too common to say anything about a support question.
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "im",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "done",
        "to",
        "of",
        "in",
        "on",
        "for",
        "at",
        "by",
        "with",
        "from",
        "and",
        "or",
        "but",
        "if",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "please",
        "pls",
        "u",
        "ur",
        "hi",
        "hey",
        "there",
        "here",
        "any",
        "some",
        "so",
        "just",
        "also",
        "very",
        "not",
        "no",
        "yes",
        "ok",
        "get",
        "got",
    ]
)
_lock = threading.Lock()
# bm25s logs every index it builds; self-calibration builds several per KB build.
logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Terms:
    content: tuple[str, ...]
    proper: tuple[str, ...]  # names the text uses: brands, places, Latin words in ko/ja


@functools.cache
def _kiwi() -> object:
    from kiwipiepy import Kiwi

    return Kiwi()


@functools.cache
def _mecab() -> object:
    import fugashi

    return fugashi.Tagger()


def terms(text: str) -> Terms:
    """The content words of `text` (NFKC, lower-cased; digits left out)."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    language = detect_language(normalised)
    if language == "ko":
        return _korean(normalised)
    if language == "ja":
        return _japanese(normalised)
    words = [w for w in _EN_WORD.findall(normalised) if w not in _EN_STOP and len(w) > 1]
    return Terms(tuple(words), tuple(_brand_pattern().findall(normalised)))


@functools.cache
def brand_names() -> frozenset[str]:
    """Other companies' names (brand_names.yml), lower case; some are two or three words."""
    groups = yaml.safe_load(BRAND_NAMES_FILE.read_text(encoding="utf-8")) or {}
    return frozenset(str(name) for names in groups.values() for name in names)


@functools.cache
def _brand_pattern() -> re.Pattern[str]:
    """brand_names() as whole words, longest first ("uber eats" before "uber")."""
    names = sorted(brand_names(), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")


def korean_tokens(text: str, typos: bool = False) -> list[Any]:
    """Kiwi's morphemes of `text` (each with .form, .tag, .start, .end, .oov). With
    `typos`, read through Kiwi's model of how Koreans misspell by sound (ㅐ/ㅔ, 되/돼,
    언재 for 언제): a corrected morpheme has .typo_cost > 0 and the right .form."""
    with _lock:  # Kiwi objects are not thread-safe
        if typos:
            return list(_kiwi().tokenize(text, typos="basic_with_continual"))  # type: ignore[attr-defined]
        return list(_kiwi().tokenize(text))  # type: ignore[attr-defined]


def _korean(text: str) -> Terms:
    tokens = korean_tokens(text)
    content = tuple(t.form for t in tokens if t.tag in _KO_CONTENT)
    proper = tuple(t.form for t in tokens if t.tag in _KO_PROPER and len(t.form) > 1)
    return Terms(content, proper)


def _japanese(text: str) -> Terms:
    content: list[str] = []
    proper: list[str] = []
    with _lock:
        words = list(_mecab()(text))  # type: ignore[operator]
    for word in words:
        pos1, pos2 = word.feature.pos1, word.feature.pos2
        lemma = word.feature.lemma or word.surface
        if pos1 in _JA_CONTENT and pos2 not in _JA_SKIP and not word.surface.isdigit():
            content.append(lemma)
        # A name, or a noun the dictionary does not know (ネトフリ, ポケカ): a name.
        if pos2 == "固有名詞" or (pos1 == "名詞" and word.feature.lemma is None):
            proper.append(word.surface)
    proper += _LATIN_WORD.findall(text)
    return Terms(tuple(content), tuple(proper))


def japanese_readings(text: str) -> list[tuple[str, str]]:
    """(surface, reading in katakana) of each content word of a Japanese text."""
    with _lock:
        words = list(_mecab()(unicodedata.normalize("NFKC", text)))  # type: ignore[operator]
    return [
        (word.surface, word.feature.kana)
        for word in words
        if word.feature.pos1 in _JA_CONTENT and word.feature.kana
    ]


class LexicalIndex:
    """BM25 over articles (each article's question variants as one document), and the
    set of every term the KB uses (questions and answers), for novelty."""

    def __init__(
        self, article_ids: list[str], article_terms: list[list[str]], known: Iterable[str]
    ):
        self.article_ids = article_ids
        self.article_terms = article_terms
        self.known = frozenset(known)
        self._bm25 = bm25s.BM25()
        # bm25s refuses an empty corpus vocabulary; a placeholder term keeps it valid.
        self._bm25.index([t or ["\x00"] for t in article_terms], show_progress=False)

    @classmethod
    def from_terms(
        cls, variants: Iterable[tuple[str, Terms]], answers: Iterable[Terms]
    ) -> LexicalIndex:
        """`variants`: (article id, terms of one question variant); `answers`: the terms
        of every answer (they count as known words, not as BM25 documents)."""
        per_article: dict[str, list[str]] = {}
        known: set[str] = set()
        for article_id, found in variants:
            per_article.setdefault(article_id, []).extend(found.content)
            known.update(found.content, found.proper)
        for found in answers:
            known.update(found.content, found.proper)
        ids = sorted(per_article)
        return cls(ids, [per_article[i] for i in ids], known)

    def scores(self, found: Terms) -> dict[str, float]:
        """Each article's BM25 score over the content words, divided by (best + 1): in
        [0, 1), near 1 when many words match, so it adds to a cosine similarity."""
        if not found.content:
            return {}
        raw = np.asarray(self._bm25.get_scores(list(found.content)), dtype=float)
        best = float(raw.max()) if len(raw) else 0.0
        if best <= 0:
            return {}
        return {self.article_ids[i]: float(raw[i] / (best + 1.0)) for i in np.flatnonzero(raw > 0)}

    def word_counts(self) -> dict[str, int]:
        """Every word the KB uses, with how many times its questions use it."""
        counts = dict.fromkeys(self.known, 0)
        for words in self.article_terms:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        return counts

    def novelty(self, found: Terms) -> float:
        """Share of the content words that appear nowhere in the KB (0 = all known)."""
        if not found.content:
            return 0.0
        return sum(t not in self.known for t in found.content) / len(found.content)

    def unknown_names(self, found: Terms) -> float:
        """1 if the text names something (a brand, a place) the KB never mentions."""
        return float(any(name not in self.known for name in found.proper))
