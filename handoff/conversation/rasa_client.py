"""Talks to Rasa (our gateway channel, bot/gateway_channel.py, and Rasa's HTTP API) and
checks that Rasa and the action server are up."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from handoff.conversation.models import Reply

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """Rasa failed, timed out, or answered nothing (e.g. the action server is down).

    `reached` is False only when the request certainly never got to Rasa (nothing
    listens); `silent` when Rasa handled the message but said nothing, which means
    an action failed (the action server is down).
    """

    def __init__(
        self, message: str, *, reached: bool = True, silent: bool = False, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.reached = reached
        self.silent = silent
        # Rasa got the message and did not answer in time: it may still be handling it.
        self.timed_out = timed_out


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        action_url: str,
        auth_token: str,
        timeout_seconds: float,
        action_auth_token: str = "",
    ) -> None:
        self._session = session
        self._rasa_url = rasa_url
        self._action_url = action_url
        self._auth_token = auth_token
        # The action server's secret: /health answers anyone, but refuses a wrong
        # secret, so readiness says so when the gateway's secret is not the server's.
        self._action_headers = (
            {"Authorization": f"Bearer {action_auth_token}"} if action_auth_token else {}
        )
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any], message_id: str
    ) -> list[Reply]:
        """One customer message in, the bot's replies out. Never returns an empty list.
        `message_id` is stored with the message in Rasa's tracker (see `find_turn`)."""
        body = {
            "sender": sender,
            "message": message,
            "metadata": metadata,
            "message_id": message_id,
        }
        try:
            async with self._session.post(
                f"{self._rasa_url}/webhooks/gateway/webhook",
                json=body,
                headers={"Authorization": f"Bearer {self._auth_token}"},
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise BotUnavailable(f"Rasa answered HTTP {response.status}")
                items = await response.json()
        except aiohttp.ClientConnectorError as exc:
            raise BotUnavailable(f"Rasa unreachable: {exc!r}", reached=False) from exc
        except TimeoutError as exc:
            raise BotUnavailable(f"no answer from Rasa in time: {exc!r}", timed_out=True) from exc
        except aiohttp.ClientError as exc:
            raise BotUnavailable(f"no answer from Rasa: {exc!r}") from exc
        replies = replies_from_rasa(items if isinstance(items, list) else [])
        if not replies:
            # Rasa answers [] when a custom action failed, typically because
            # the action server is down: the customer must not get silence.
            raise BotUnavailable("Rasa answered nothing (is the action server up?)", silent=True)
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

    async def tracker(self, sender: str) -> dict[str, Any]:
        tracker = await self._api("GET", f"/conversations/{sender}/tracker")
        return tracker if isinstance(tracker, dict) else {}

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        events = (await self.tracker(sender)).get("events")
        return events if isinstance(events, list) else []

    async def rewind(self, sender: str) -> None:
        """Undo the latest user message and everything after it (Rasa's `rewind` event):
        a message that produced nothing is sent again later as if for the first time.
        `action_listen` too: without it Rasa's rules may answer the resent message with
        the default fallback (seen with Rasa 3.6 when the message carries metadata)."""
        await self._api(
            "POST",
            f"/conversations/{sender}/tracker/events",
            [{"event": "rewind"}, {"event": "action", "name": "action_listen"}],
        )

    async def resume(self, sender: str) -> None:
        """Un-pause after a handoff. `action_listen` too: a bare `resume` after an
        action-initiated pause makes Rasa run the handoff action again."""
        await self._api(
            "POST",
            f"/conversations/{sender}/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )

    async def trigger_intent(self, sender: str, intent: str, language: str) -> list[Reply]:
        """Make the bot act as if the customer had said `intent`; returns its replies.
        The language goes along as the `language` entity: Rasa may never have seen the
        conversation (a person took it while the bot was down)."""
        result = await self._api(
            "POST",
            f"/conversations/{sender}/trigger_intent",
            {"name": intent, "entities": {"language": language}},
        )
        messages = result.get("messages") if isinstance(result, dict) else None
        return replies_from_rasa(messages if isinstance(messages, list) else [])

    async def parts_health(self) -> dict[str, str]:
        """'up' or the reason it is down, for Rasa (with a loaded model) and actions."""
        return {
            "rasa": await self._check(f"{self._rasa_url}/status", {"token": self._auth_token}),
            "actions": await self._check(f"{self._action_url}/health", {}, self._action_headers),
        }

    async def _check(
        self, url: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> str:
        try:
            async with self._session.get(
                url, params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                if response.status != 200:
                    return f"down: HTTP {response.status}"
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return f"down: {exc.__class__.__name__}"
        if "model_file" in body and not body.get("model_file"):
            return "down: no model loaded"
        return "up"


def effective_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tracker's events with rewinds applied (a `rewind` undoes back to and including
    the latest user event), as Rasa itself reads them."""
    kept: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "rewind":
            while kept:
                if kept.pop().get("event") == "user":
                    break
        elif event.get("event") == "restart":
            kept.clear()
        else:
            kept.append(event)
    return kept


def find_turn(events: list[dict[str, Any]], message_id: str) -> list[Reply] | None:
    """Whether Rasa has handled the message `message_id`: None if not, else the replies
    it gave (possibly none). Used when the gateway could not confirm a delivery (it
    timed out, or crashed before storing the answer), so a message is not handled twice."""
    effective = effective_events(events)
    for index, event in enumerate(effective):
        if event.get("event") == "user" and event.get("message_id") == message_id:
            items = []
            for later in effective[index + 1 :]:
                if later.get("event") == "user":
                    break
                if later.get("event") == "bot":
                    data = later.get("data") or {}
                    items.append(
                        {
                            "text": later.get("text"),
                            "buttons": data.get("buttons"),
                            "custom": data.get("custom"),
                        }
                    )
            return replies_from_rasa(items)
    return None


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
