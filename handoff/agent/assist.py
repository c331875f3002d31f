"""Suggested KB answers for agents, from the action server's retrieval.

The action server already holds the embedding model and the live index; the gateway
asks it (the `action_kb_suggest` action over rasa-sdk's webhook protocol) instead of
loading a second copy of the model, so there is one embedder setting and one model.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class AssistUnavailable(Exception):
    """The action server could not be asked; the message says why."""


class KBAssist:
    def __init__(
        self, session: aiohttp.ClientSession, action_url: str, auth_token: str, timeout: float
    ) -> None:
        self._session = session
        self._url = f"{action_url}/webhook"
        # The action server answers only requests carrying its secret (stack/action_server.py).
        self._headers = {"Authorization": f"Bearer {auth_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def suggest(self, text: str, language: str) -> list[dict[str, Any]]:
        """Up to three articles for `text`: article_id, title and answer in `language`, score."""
        body = {
            "next_action": "action_kb_suggest",
            "tracker": {
                "sender_id": "agent-assist",
                "slots": {"language": language},
                "latest_message": {"text": text},
                "events": [],
            },
            "domain": {},
        }
        try:
            async with self._session.post(
                self._url, json=body, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise AssistUnavailable(f"the action server answered HTTP {response.status}")
                result = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AssistUnavailable(f"the action server is unreachable: {exc!r}") from exc
        for item in result.get("responses") or []:
            custom = item.get("custom") if isinstance(item, dict) else None
            if isinstance(custom, dict) and isinstance(custom.get("suggestions"), list):
                return [s for s in custom["suggestions"] if isinstance(s, dict)]
        return []
