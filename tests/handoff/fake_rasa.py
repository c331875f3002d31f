"""A stand-in for RasaClient in unit tests: keeps a tracker of events like Rasa does, and
can be switched down, made to lose its answers, or made to fail its actions."""

from __future__ import annotations

from typing import Any

from handoff.conversation.models import Reply
from handoff.conversation.rasa_client import BotUnavailable, effective_events


class FakeRasa:
    def __init__(self) -> None:
        self.down = False  # nothing listens: every call fails before reaching "Rasa"
        self.actions_down = False  # messages are handled but produce nothing
        self.lose_next_answer = False  # handle the next message, then fail the response
        self.dies_on: set[str] = set()  # Rasa dies as these messages arrive (never handled)
        # Time out on the next message while still handling it: its turn is recorded
        # only when `finish_slow_turn()` is called (Rasa saves a turn when it is done).
        self.slow_next_answer = False
        self._slow_turn: tuple[str, str, str] | None = None
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.sent: list[tuple[str, str, str]] = []  # (sender, text, message_id) handled
        self.resumed: list[str] = []
        self.rewound: list[str] = []
        self.paused: set[str] = set()

    def _reachable(self) -> None:
        if self.down:
            raise BotUnavailable("connection refused", reached=False)

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any], message_id: str
    ) -> list[Reply]:
        self._reachable()
        if message in self.dies_on:
            self.down = True
            raise BotUnavailable("server disconnected")
        if self.slow_next_answer:
            self.slow_next_answer = False
            self._slow_turn = (sender, message, message_id)
            raise BotUnavailable("no answer from Rasa in time", timed_out=True)
        events = self.events.setdefault(sender, [])
        events.append({"event": "user", "text": message, "message_id": message_id})
        self.sent.append((sender, message, message_id))
        if sender in self.paused:
            raise BotUnavailable("Rasa answered nothing", silent=True)
        if self.actions_down:
            raise BotUnavailable("Rasa answered nothing", silent=True)
        answer = f"answer to {message}"
        events.append({"event": "bot", "text": answer, "data": {}})
        if message == "talk to a human":
            self.paused.add(sender)
            events[-1]["data"] = {"custom": {"handoff": {"reason": "requested"}}}
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise BotUnavailable("timed out after Rasa had answered")
        replies = [Reply(text=answer)]
        if message == "talk to a human":
            replies[0].meta["handoff"] = {"reason": "requested"}
        return replies

    async def tracker(self, sender: str) -> dict[str, Any]:
        self._reachable()
        return {"events": list(self.events.get(sender, [])), "paused": sender in self.paused}

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        return (await self.tracker(sender))["events"]

    async def rewind(self, sender: str) -> None:
        self._reachable()
        self.rewound.append(sender)
        self.events.setdefault(sender, []).append({"event": "rewind"})

    async def resume(self, sender: str) -> None:
        self._reachable()
        self.resumed.append(sender)
        self.paused.discard(sender)

    async def trigger_intent(self, sender: str, intent: str, language: str) -> list[Reply]:
        self._reachable()
        return [Reply(text="how would you rate the chat?")] if intent == "handoff_done" else []

    async def parts_health(self) -> dict[str, str]:
        if self.down:
            return {"rasa": "down: ClientConnectorError", "actions": "up"}
        return {"rasa": "up", "actions": "down: HTTP 502" if self.actions_down else "up"}

    def handled(self, sender: str) -> list[str]:
        """The texts of the user turns Rasa keeps for `sender` (rewinds applied)."""
        return [
            e["text"] for e in effective_events(self.events.get(sender, [])) if e["event"] == "user"
        ]

    async def finish_slow_turn(self) -> None:
        """The timed-out message is done at last: its turn is in the tracker now."""
        assert self._slow_turn is not None
        sender, message, message_id = self._slow_turn
        self._slow_turn = None
        await self.send(sender, message, {}, message_id)
