"""Semantic search for the help centre (/help?q=..., handoff/helpcentre/).

Rasa never predicts this action: the gateway calls it over rasa-sdk's webhook (like
action_kb_suggest) with the reader's query as the latest message, because the embedding
model and the hot-reloaded index live here and the gateway keeps no model of its own.
rasa-sdk runs any registered action by name, so it needs no entry in bot/domain.yml.

The answer is one custom payload: `{"search": {"decision", "results": [{"article_id",
"score"}, ...]}}`, the results best first; `decision` is what the bot would have done with
the query (answer / clarify / abstain), so the gateway can leave out semantic neighbours of
a query the KB does not cover. `{"search_error": "..."}` when the index or model is away.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import get_retriever
from kb_index.decision import decide
from kb_index.embedders import EmbedderError
from kb_index.index import KBIndexError
from kb_index.retriever import Retriever

log = logging.getLogger(__name__)

# A results page, not a chat reply: more than the bot's three options, few enough to read.
DEFAULT_LIMIT = 8
MAX_LIMIT = 20
# The gateway trims queries to 200 characters; anything longer did not come from it.
MAX_QUERY_CHARS = 500


def search(retriever: Retriever, text: str, limit: int) -> dict[str, Any]:
    """The ranked articles for `text` and the bot's decision on it (CPU work: the caller
    runs it in a thread). The same ranking and calibration as a customer's question."""
    index = retriever.index
    vector = retriever.query_vector(text)
    candidates, facts = index.analyse(text, vector, top_articles=limit)
    decision = decide(candidates, facts, index.calibration, index.thresholds)
    log.info("help-centre search query=%r %s", text[:200], decision.log_line())
    return {
        "decision": decision.kind,
        "results": [
            {"article_id": c.article_id, "score": round(c.score, 4)}
            for c in candidates[:limit]
            if c.article_id in index.articles
        ],
    }


def requested_limit(metadata: object) -> int:
    """`limit` from the message's metadata, bounded; the default for anything unusable."""
    raw = metadata.get("limit") if isinstance(metadata, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return min(raw, MAX_LIMIT)
    return DEFAULT_LIMIT


class ActionKBSearch(Action):
    def name(self) -> str:
        return "action_kb_search"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "").strip()[:MAX_QUERY_CHARS]
        limit = requested_limit(tracker.latest_message.get("metadata"))
        if not text:
            dispatcher.utter_message(
                json_message={"search": {"decision": "abstain", "results": []}}
            )
            return []
        try:
            # Embedding is CPU work: keep the action server's event loop free.
            found = await asyncio.to_thread(search, get_retriever(), text, limit)
        except (KBIndexError, EmbedderError) as exc:
            log.exception("knowledge base unavailable for the help centre's search")
            dispatcher.utter_message(json_message={"search_error": type(exc).__name__})
            return []
        dispatcher.utter_message(json_message={"search": found})
        return []
