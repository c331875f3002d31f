"""Talks to Rasa's REST channel and checks that Rasa and the action server are up."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from handoff.models import Reply

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """Rasa failed, timed out, or answered nothing (e.g. the action server is down)."""


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        action_url: str,
        auth_token: str,
        timeout_seconds: float,
    ) -> None:
        self._session = session
        self._rasa_url = rasa_url
        self._action_url = action_url
        self._auth_token = auth_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[Reply]:
        """One customer message in, the bot's replies out. Never returns an empty list."""
        body = {"sender": sender, "message": message, "metadata": metadata}
        try:
            async with self._session.post(
                f"{self._rasa_url}/webhooks/rest/webhook", json=body, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise BotUnavailable(f"Rasa answered HTTP {response.status}")
                items = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(f"Rasa unreachable: {exc!r}") from exc
        replies = replies_from_rasa(items)
        if not replies:
            # Rasa answers [] when a custom action failed, typically because
            # the action server is down: the customer must not get silence.
            raise BotUnavailable("Rasa answered nothing (is the action server up?)")
        return replies

    async def _api(self, method: str, path: str, body: object = None) -> object:
        """Rasa's HTTP API (token-protected), for handoff: trackers, resume, triggers."""
        try:
            async with self._session.request(
                method,
                f"{self._rasa_url}{path}",
                params={"token": self._auth_token},
                json=body,
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise BotUnavailable(f"Rasa {method} {path} answered HTTP {response.status}")
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(f"Rasa unreachable: {exc!r}") from exc

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        tracker = await self._api("GET", f"/conversations/{sender}/tracker")
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return events if isinstance(events, list) else []

    async def resume(self, sender: str) -> None:
        """Un-pause after a handoff. `action_listen` too: a bare `resume` after an
        action-initiated pause makes Rasa run the handoff action again."""
        await self._api(
            "POST",
            f"/conversations/{sender}/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )

    async def trigger_intent(self, sender: str, intent: str) -> list[Reply]:
        """Make the bot act as if the customer had said `intent`; returns its replies."""
        result = await self._api(
            "POST", f"/conversations/{sender}/trigger_intent", {"name": intent, "entities": {}}
        )
        messages = result.get("messages") if isinstance(result, dict) else None
        return replies_from_rasa(messages if isinstance(messages, list) else [])

    async def parts_health(self) -> dict[str, str]:
        """'up' or the reason it is down, for Rasa (with a loaded model) and actions."""
        return {
            "rasa": await self._check(f"{self._rasa_url}/status", {"token": self._auth_token}),
            "actions": await self._check(f"{self._action_url}/health", {}),
        }

    async def _check(self, url: str, params: dict[str, str]) -> str:
        try:
            async with self._session.get(
                url, params=params, timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                if response.status != 200:
                    return f"down: HTTP {response.status}"
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return f"down: {exc.__class__.__name__}"
        if "model_file" in body and not body.get("model_file"):
            return "down: no model loaded"
        return "up"


def replies_from_rasa(items: list[dict[str, Any]]) -> list[Reply]:
    """Rasa sends text and custom payloads as separate items; fold them together.

    A custom payload belongs to the text before it: `links` are shown with it,
    `kb` (the retrieval decision) is kept as metadata for agents and designers.
    """
    replies: list[Reply] = []
    for item in items:
        if item.get("text"):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in item.get("buttons") or []
            ]
            replies.append(Reply(text=str(item["text"]), buttons=buttons))
        custom = item.get("custom")
        if isinstance(custom, dict) and replies:
            target = replies[-1]
            links = custom.get("links")
            if isinstance(links, list):
                target.links.extend(
                    {"title": str(link.get("title", "")), "url": str(link.get("url", ""))}
                    for link in links
                    if isinstance(link, dict) and link.get("url")
                )
            target.meta.update({k: v for k, v in custom.items() if k != "links"})
    return replies
