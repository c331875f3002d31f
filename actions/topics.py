"""Unanswered topics for the supervisor analytics page (kb_index/topics.py).

Rasa never predicts this action: the gateway calls it over rasa-sdk's webhook (like
action_kb_suggest) with the filters in the message's metadata, because the embedding
model lives here and the gateway keeps none. rasa-sdk runs any registered action by
name, so it needs no entry in bot/domain.yml.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import get_retriever
from kb_index import unanswered
from kb_index.embedders import EmbedderError
from kb_index.index import KBIndexError
from kb_index.memo import MemoEmbedder
from kb_index.topics import MAX_QUESTIONS, TIMED_BATCH, topics_report, unread
from stack.settings import Settings

log = logging.getLogger(__name__)

LANGUAGES = ("ko", "ja", "en")
# Embedding time one page load may spend: the gateway waits 65 s (handoff/agent/topics_api.py).
# A CPU without bf16 units embeds only ~20-70 questions/s, so a busy range's first load
# shows what was read by then and the rest is read in the background for the next one.
EMBED_BUDGET_SECONDS = 40.0
# One embedding job at a time: a second page load waits, then finds its vectors
# remembered, instead of both embedding the same questions on the same two cores.
_one_at_a_time = threading.Lock()
_reading: list[threading.Thread] = []  # the background reader, while it runs


@functools.lru_cache(maxsize=1)
def topic_embedder() -> MemoEmbedder:
    """The retriever's model, remembering the questions it has embedded (bounded)."""
    return MemoEmbedder(get_retriever().embedder)


def filters(metadata: dict[str, Any]) -> tuple[date, date, str | None]:
    """`from`, `to` (ISO days) and `language` (ko/ja/en or None); ValueError if bad.
    The gateway checked them already; this only refuses what it could not use."""
    start = date.fromisoformat(str(metadata["from"]))
    end = date.fromisoformat(str(metadata["to"]))
    language = metadata.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    if end < start:
        raise ValueError("'from' is after 'to'")
    return start, end, language


def build(start: date, end: date, language: str | None) -> dict[str, Any]:
    """CPU work (reading, embedding, grouping): run it off the event loop."""
    arrived = time.perf_counter()
    with _one_at_a_time:
        # Time spent waiting for another load counts: the gateway's clock runs meanwhile.
        budget = max(0.0, EMBED_BUDGET_SECONDS - (time.perf_counter() - arrived))
        retriever = get_retriever()
        index = retriever.index
        title_language = language or "en"

        def title_of(article_id: str) -> str | None:
            article = index.articles.get(article_id)
            return article.title_in(title_language) if article is not None else None

        entries = unanswered.read(Settings.from_env().unanswered_path)
        embedder = topic_embedder()
        report = topics_report(
            entries,
            embedder,
            start,
            end,
            language,
            title_of,
            index.mean_vector(),
            budget_seconds=budget,
        )
        if report["pending"]:
            chosen = unanswered.between(entries, start, end, language)[-MAX_QUESTIONS:]
            _read_in_background(unread(chosen, embedder), embedder)
        return report


def _read_in_background(texts: list[str], embedder: MemoEmbedder) -> None:
    """Embeds `texts` batch by batch, giving way to page loads between batches."""
    if any(thread.is_alive() for thread in _reading):
        return  # the next page load hands over what is still unread

    def read() -> None:
        for at in range(0, len(texts), TIMED_BATCH):
            with _one_at_a_time:  # released between batches: a page load waits ~1 s
                embedder.embed(texts[at : at + TIMED_BATCH])

    thread = threading.Thread(target=read, name="unanswered-topics-reader", daemon=True)
    _reading[:] = [thread]
    thread.start()


class ActionKBTopics(Action):
    def name(self) -> str:
        return "action_kb_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = tracker.latest_message.get("metadata") or {}
        try:
            start, end, language = filters(metadata)
        except (KeyError, TypeError, ValueError) as exc:
            dispatcher.utter_message(json_message={"topics_error": f"bad filters: {exc}"})
            return []
        try:
            report = await asyncio.to_thread(build, start, end, language)
        except (KBIndexError, EmbedderError, OSError) as exc:
            log.exception("unanswered topics could not be built")
            # What to fix (e.g. "run make kb-index"); the records are masked, paths are ours.
            dispatcher.utter_message(json_message={"topics_error": str(exc)})
            return []
        log.info(
            "unanswered topics %s..%s %s: %d questions (%d pending), %d groups, "
            "embed %.1fs, group %.1fs",
            start,
            end,
            language or "all",
            report["grouped"],
            report["pending"],
            report["groups"],
            report["seconds"]["embed"],
            report["seconds"]["group"],
        )
        dispatcher.utter_message(json_message={"topics": report})
        return []
