"""Suggested KB answers for agents, from the action server's retrieval.

The action server already holds the embedding model and the live index; the gateway
asks it (the `action_kb_suggest` action, through web/action_webhook.py) instead of
loading a second copy of the model, so there is one embedder setting and one model.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from handoff.web.action_webhook import ActionServerUnavailable, ActionWebhook

log = logging.getLogger(__name__)


class AssistUnavailable(Exception):
    """The action server could not be asked; the message says why."""


class KBAssist:
    def __init__(
        self, session: aiohttp.ClientSession, action_url: str, auth_token: str, timeout: float
    ) -> None:
        self._webhook = ActionWebhook(session, action_url, auth_token, timeout)

    async def suggest(self, text: str, language: str) -> list[dict[str, Any]]:
        """Up to three articles for `text`: article_id, title and answer in `language`, score."""
        try:
            payloads = await self._webhook.custom_payloads(
                "action_kb_suggest", "agent-assist", text=text, slots={"language": language}
            )
        except ActionServerUnavailable as exc:
            raise AssistUnavailable(str(exc)) from exc
        for custom in payloads:
            if isinstance(custom.get("suggestions"), list):
                return [s for s in custom["suggestions"] if isinstance(s, dict)]
        return []
