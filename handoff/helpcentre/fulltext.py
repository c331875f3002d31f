"""Plain full-text matching over the articles' titles, questions and answers, in every
language: the half of the help centre's search that needs no model (and so still works
while the action server is down).

Japanese has no spaces and Korean glues particles to words (배송은, 주문을), so words
are no unit to match on. A query is cut into pieces instead: character bigrams of every
run of Hangul, kana or Han characters, and whole words of other scripts (which match as
substrings: "cancel" finds "cancellation"). An article matches by the share of the
query's pieces its text contains, each piece weighted by how rare it is across the KB (an
inverse document frequency), so that 어요, です or "how" count for little and 환불 or
"refund" for a lot. Text is compared NFKC-normalised and case-folded: ｷｬﾝｾﾙ is キャンセル,
ＡＢＣ is abc.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from kb_index.articles import Article

# An article is a result when its text holds pieces worth this share of the query's weight.
MIN_MATCH = 0.5
# Scripts written without spaces between words (or with particles glued on).
_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]"
)
# Anything that is not a letter or a digit separates pieces.
_SEPARATORS = re.compile(r"[^\w]+|_+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation as spaces, runs of spaces as one."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_SEPARATORS.sub(" ", folded).split())


def pieces(text: str) -> list[str]:
    """What a query is matched by: character bigrams of CJK runs (a lone character as
    itself), other words whole; each once, in order."""
    found: list[str] = []
    for word in normalise(text).split():
        for run, is_cjk in _runs(word):
            if not is_cjk or len(run) == 1:
                found.append(run)
            else:
                found.extend(run[i : i + 2] for i in range(len(run) - 1))
    return list(dict.fromkeys(found))


def _runs(word: str) -> Iterable[tuple[str, bool]]:
    """`word` split where it changes between CJK and other characters (주문ID -> 주문, id)."""
    start = 0
    for i in range(1, len(word) + 1):
        if i == len(word) or bool(_CJK.match(word[i])) != bool(_CJK.match(word[start])):
            yield word[start:i], bool(_CJK.match(word[start]))
            start = i


@dataclass(frozen=True)
class Match:
    article_id: str
    # 0..3: the matched share of the query's weight in the whole article, the same in its
    # questions alone, and the share of its questions (in their best language) that
    # hold the query as typed.
    score: float


class FullTextIndex:
    """Every article's text as normalised strings, searched by substring."""

    def __init__(self, articles: list[Article]) -> None:
        self._texts = {article.id: _article_text(article) for article in articles}
        self._questions = {
            article.id: [[normalise(q) for q in qs] for qs in article.questions.values() if qs]
            for article in articles
        }

    def search(self, query: str, limit: int) -> list[Match]:
        """Articles whose text holds most of the query's weight, best first."""
        wanted = pieces(query)
        if not wanted or not self._texts:
            return []
        found = {p: [aid for aid, text in self._texts.items() if p in text] for p in wanted}
        total = len(self._texts)
        # A piece no article has weighs most: a query of unknown words matches nothing.
        weight = {p: math.log(1 + total / max(1, len(ids))) for p, ids in found.items()}
        whole = sum(weight.values())
        shares: dict[str, float] = {}
        for p, ids in found.items():
            for article_id in ids:
                shares[article_id] = shares.get(article_id, 0.0) + weight[p] / whole
        phrase = normalise(query)
        matches = []
        for article_id, share in shares.items():
            if share < MIN_MATCH:
                continue
            questions = self._questions[article_id]
            in_questions = sum(
                weight[p] for p in wanted if any(p in q for qs in questions for q in qs)
            )
            phrase_share = max(
                (sum(phrase in q for q in qs) / len(qs) for qs in questions), default=0.0
            )
            matches.append(Match(article_id, share + in_questions / whole + phrase_share))
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]


def _article_text(article: Article) -> str:
    texts = [q for qs in article.questions.values() for q in qs]
    texts.extend(article.answers.values())
    texts.extend(title for link in article.links for title in link.titles.values())
    # A newline between texts: no piece spans two of them.
    return "\n".join(normalise(t) for t in texts)
