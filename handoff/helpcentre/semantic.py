"""Semantic search for the help centre, from the action server's retrieval.

The action server holds the embedding model and the live, hot-reloaded index; the gateway
asks it (`action_kb_search`, actions/kb_search.py, through web/action_webhook.py) instead
of loading a second copy of the model, so there is one embedder setting and one model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from handoff.web.action_webhook import ActionServerUnavailable, ActionWebhook

log = logging.getLogger(__name__)

ACTION = "action_kb_search"


class SemanticUnavailable(Exception):
    """The action server could not be asked or could not search; the message says why."""


@dataclass(frozen=True)
class SemanticResults:
    decision: str  # what the bot would do with the query: answer / clarify / abstain
    ranked: list[tuple[str, float]]  # (article id, ranking score), best first


class SemanticSearch:
    def __init__(
        self, session: aiohttp.ClientSession, action_url: str, auth_token: str, timeout: float
    ) -> None:
        self._webhook = ActionWebhook(session, action_url, auth_token, timeout)

    async def search(self, text: str, limit: int) -> SemanticResults:
        """Up to `limit` articles for `text`; SemanticUnavailable if there is no answer."""
        try:
            payloads = await self._webhook.custom_payloads(
                ACTION, "help-centre", text=text, metadata={"limit": limit}
            )
        except ActionServerUnavailable as exc:
            raise SemanticUnavailable(str(exc)) from exc
        return _results(payloads)


def _results(payloads: list[dict[str, Any]]) -> SemanticResults:
    for custom in payloads:
        if custom.get("search_error"):
            raise SemanticUnavailable(
                f"the action server could not search: {custom['search_error']}"
            )
        found = custom.get("search")
        if isinstance(found, dict) and isinstance(found.get("results"), list):
            ranked = [
                (str(r["article_id"]), float(r["score"]))
                for r in found["results"]
                if isinstance(r, dict)
                and isinstance(r.get("article_id"), str)
                and isinstance(r.get("score"), int | float)
            ]
            return SemanticResults(str(found.get("decision") or ""), ranked)
    raise SemanticUnavailable("the action server sent no search results")
