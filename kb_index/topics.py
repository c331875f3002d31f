"""Unanswered topics for the supervisor analytics page.

The records of a date range (and language) grouped by the KB's embedder (unanswered.py),
each group with what a supervisor needs to act on it: size, languages, kinds, example
questions (masked when recorded: unanswered.record), the articles retrieval came
closest with, and a KB-article draft (drafts.py). The action server builds this
(actions/topics.py), because it holds the model; the gateway only forwards it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from kb_index import unanswered
from kb_index.drafts import draft_id, drafts_yaml
from kb_index.memo import MemoEmbedder

# The page lists the biggest groups; the long tail of one-off questions is in the CLI.
MAX_TOPICS = 50
# The most recent questions grouped at most: bounds the work of one page load and fits
# the action server's memory of embeddings (kb_index/memo.py).
MAX_QUESTIONS = 20_000
NEAREST_ARTICLES = 3
# Wordings per embedder call when time is counted: the deadline is checked between
# calls, and 32 take ~1-2 s even on a CPU without bf16 units.
TIMED_BATCH = 32


def topics_report(
    entries: list[dict[str, Any]],
    embedder: MemoEmbedder,
    start: date,
    end: date,
    language: str | None,
    title_of: Callable[[str], str | None],
    reference: np.ndarray | None,
    limit: int = MAX_TOPICS,
    budget_seconds: float | None = None,
) -> dict[str, Any]:
    """The topics of `start`..`end` (UTC days, included) in `language` (None: all),
    biggest first; `title_of` names an article id (None if the KB no longer has it);
    `reference` is the KB's mean vector (unanswered.topics).
    With `budget_seconds`, questions whose wording is not embedded within that time are
    left out and counted as `pending` (embedding them is the caller's, meanwhile)."""
    chosen = unanswered.between(entries, start, end, language)
    asked = len(chosen)
    chosen = chosen[-MAX_QUESTIONS:]  # the file is in time order: keep the newest
    started = time.perf_counter()
    # Most records carry the vector retrieval computed: only the rest cost model time.
    embedder.remember(unanswered.stored_vectors(chosen, embedder.identity, embedder.dim))
    pending = 0
    if budget_seconds is not None:
        chosen, pending = _embedded_within(chosen, embedder, started + budget_seconds)
    vectors = unanswered.embed_questions(chosen, embedder)
    embedded = time.perf_counter()
    groups = unanswered.summarise(chosen, unanswered.topics(vectors, reference), vectors)
    grouped = time.perf_counter()
    shown = groups[:limit]
    topics = [
        {
            "rank": rank,
            "id": draft_id(rank, group),
            "representative": group.representative,
            "size": group.count,
            "languages": dict(group.languages.most_common()),
            "kinds": dict(group.kinds.most_common()),
            "examples": group.examples,
            "nearest": [
                {"article_id": article_id, "title": title_of(article_id) or article_id, "count": n}
                for article_id, n in group.top_articles.most_common(NEAREST_ARTICLES)
            ],
            "draft": drafts_yaml([group], first_rank=rank),
        }
        for rank, group in enumerate(shown, start=1)
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "language": language or "all",
        "questions": asked,
        "grouped": len(chosen),
        "pending": pending,
        "groups": len(groups),
        "topics": topics,
        "drafts": drafts_yaml(shown),
        "seconds": {
            "embed": round(embedded - started, 3),
            "group": round(grouped - embedded, 3),
        },
    }


def unread(entries: list[dict[str, Any]], embedder: MemoEmbedder) -> list[str]:
    """The wordings of `entries` not embedded yet, newest first."""
    return embedder.missing([e["query"] for e in reversed(entries)])


def _embedded_within(
    entries: list[dict[str, Any]], embedder: MemoEmbedder, deadline: float
) -> tuple[list[dict[str, Any]], int]:
    """Embeds new wordings, newest first, until `deadline`; the entries whose wording
    is now remembered, and how many are left out."""
    fresh = unread(entries, embedder)
    for at in range(0, len(fresh), TIMED_BATCH):
        if time.perf_counter() >= deadline:
            break
        embedder.embed(fresh[at : at + TIMED_BATCH])
    left = set(embedder.missing(fresh))
    kept = [e for e in entries if e["query"] not in left]
    return kept, len(entries) - len(kept)
