"""One results list from the two halves of the help centre's search: the action server's
semantic ranking (semantic.py) and the gateway's own full-text match (fulltext.py).

The lists are merged by reciprocal rank fusion (each article scores 1 / (K + rank) in each
list it is in; the sum ranks), which needs no common scale between a cosine-based score
and a share of matched characters. Semantic neighbours are kept only when they are close to
the best one, and not at all when the bot's calibrated decision says the KB does not cover
the query (abstain): "weather in Osaka" then lists nothing rather than the five least
unlikely articles. Full-text matches are kept whatever the decision (the words are there).
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.helpcentre.fulltext import Match
from handoff.helpcentre.semantic import SemanticResults

MAX_RESULTS = 10
# Reciprocal rank fusion's constant: small, because each list is short and its first
# places are the ones that mean something.
RRF_K = 10
# Semantic results this close to the best one's ranking score (kb_index/decision.py's
# scale, where 0.1 is "close enough to offer as an option") are listed.
SEMANTIC_WINDOW = 0.2


@dataclass(frozen=True)
class Result:
    article_id: str
    semantic: bool  # found by meaning
    words: bool  # found by its words


def merge(semantic: SemanticResults | None, fulltext: list[Match], known: set[str]) -> list[Result]:
    """The fused list (at most MAX_RESULTS), articles not in `known` (the KB as the pages
    read it: the index may be a moment behind an edit) left out."""
    by_meaning = _semantic_ids(semantic) if semantic is not None else []
    by_words = [m.article_id for m in fulltext]
    scores: dict[str, float] = {}
    for ranked in (by_meaning, by_words):
        for rank, article_id in enumerate(ranked, start=1):
            scores[article_id] = scores.get(article_id, 0.0) + 1.0 / (RRF_K + rank)
    meaning_rank = {article_id: rank for rank, article_id in enumerate(by_meaning)}
    ordered = sorted(
        (a for a in scores if a in known),
        # Ties (one article first in one list, another first in the other): meaning first.
        key=lambda a: (-scores[a], meaning_rank.get(a, len(by_meaning))),
    )
    meaning, words = set(by_meaning), set(by_words)
    return [Result(a, a in meaning, a in words) for a in ordered[:MAX_RESULTS]]


def _semantic_ids(semantic: SemanticResults) -> list[str]:
    if semantic.decision == "abstain" or not semantic.ranked:
        return []
    floor = semantic.ranked[0][1] - SEMANTIC_WINDOW
    return [article_id for article_id, score in semantic.ranked if score >= floor]
