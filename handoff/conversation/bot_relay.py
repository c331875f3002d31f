"""The one way the gateway talks to the bot for a conversation: its outbox, delivered to
Rasa in order and exactly once, whatever is down.

A customer message for the bot is stored together with an outbox item (one transaction),
and the bot's replies are stored together with the item's removal (one transaction). In
between, anything may die:

- Rasa or the action server is down: the item stays; the customer is told, once per
  outage, that the message is kept and will be answered, or that a person can take over.
  `run()` retries every second once every part reports healthy, oldest first.
- The gateway dies after storing the message: the item is still there when it restarts.
- The answer was lost after Rasa handled the message (a timeout, a gateway crash): an item
  that may have reached Rasa is looked up in Rasa's tracker by its message id before it is
  sent again, and Rasa's recorded replies are used instead of asking twice.
- Rasa handled the message but said nothing (an action failed): the turn is rewound in
  Rasa, so that the retry is the message's only turn.

Per conversation one delivery runs at a time (`lock`), so replies keep the order of the
messages they answer. A person taking over removes the conversation's message items (their
messages are in the transcript the agent reads); handing the chat back adds a `resume` item.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from common.jsonlog import conversation_context
from common.pii import redact_contacts
from handoff.conversation.models import Conversation, Message, OutboxItem, Reply
from handoff.conversation.rasa_client import BotUnavailable, RasaClient, find_turn
from handoff.conversation.relay_coordination import LocalCoordination, RelayCoordination
from handoff.customer.texts import GatewayTexts
from handoff.realtime.hub import Realtime
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.store.interface import Store
from handoff.web.metrics import Metrics

log = logging.getLogger(__name__)

HandoffHook = Callable[[Conversation, dict[str, Any]], Awaitable[list[Message]]]
# Adds the gateway's own lines to a turn's replies (handoff/notices/lines.py): the
# conversation, the turn's message id, the replies; returns the replies to store.
LinesHook = Callable[[Conversation, str, list[Reply]], Awaitable[list[Reply]]]
REQUEST_PERSON_PAYLOAD = "/request_human"
RETRY_SECONDS = 1.0
# Conversations redelivered side by side after an outage (Rasa serves a few at once).
REDELIVERY_CONCURRENCY = 4


def for_bot(text: str) -> str:
    """What Rasa gets of a customer message: no emails or phone numbers (the bot needs
    none; Rasa's tracker store would keep them). Cards and ids never got stored."""
    return redact_contacts(text)


def message_id(conversation_id: str, seq: int) -> str:
    """The id Rasa stores with the customer message: unique, and stable across retries."""
    return f"{conversation_id}:{seq}"


class StillInRasa(BotUnavailable):
    """An earlier send of the item timed out and Rasa may still be handling it."""


@dataclass(frozen=True)
class Drained:
    replies: list[Message]  # stored and published during this drain
    pending: bool  # something is still waiting for the bot


class BotRelay:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        hub: Realtime,
        texts: GatewayTexts,
        max_attempts: int,
        metrics: Metrics | None = None,
        in_doubt_seconds: float = 30.0,
        coordination: RelayCoordination | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.store = store
        self.rasa = rasa
        self.hub = hub
        self.texts = texts
        self.max_attempts = max_attempts
        # One delivery per conversation at a time, and which sends timed out (Rasa may
        # still be handling them: it records the turn only when it is done, so sending
        # again before `in_doubt_seconds` have passed could make it handle the message
        # twice); shared by the replicas through Redis when they have it.
        self.coordination = coordination or LocalCoordination(in_doubt_seconds)
        # Set by the app: queue the conversation when the bot's reply asks for a person.
        self.on_handoff: HandoffHook | None = None
        # Set by the app: notices of outages and maintenance said with the bot's replies.
        self.add_lines: LinesHook | None = None
        # Items this process created and has not tried yet: they cannot have reached
        # Rasa, so they skip the tracker lookup (the common case costs nothing extra).
        self._fresh: set[int] = set()
        self._not_counted: set[int] = set()
        # A delivery just failed: until a health check says every part is back, new
        # messages are kept without trying (a doomed try costs the customer a timeout,
        # and Rasa a half-done turn).
        self._bot_down = False
        self._wake = asyncio.Event()

    @property
    def in_doubt_seconds(self) -> float:
        return self.coordination.in_doubt_seconds

    @in_doubt_seconds.setter
    def in_doubt_seconds(self, seconds: float) -> None:
        self.coordination.in_doubt_seconds = seconds

    def lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while anything is delivered for, or stored by a customer in, the conversation."""
        return self.coordination.hold(conversation_id)

    def note_new(self, item: OutboxItem) -> None:
        self._fresh.add(item.id)

    # -- delivering ------------------------------------------------------------------

    async def drain(self, conversation_id: str, *, counted: bool = False) -> Drained:
        """Deliver the conversation's outbox in order, stopping at the first item that
        cannot be delivered now. The caller holds `lock(conversation_id)`. `counted`:
        every part looked healthy, so a failure counts towards giving up on the item."""
        replies: list[Message] = []
        items = await self.store.outbox(conversation_id)
        if items and self._bot_down:
            await self._probe()
        for item in items:
            delivered = await self._deliver(item)
            if delivered is None:
                tried = item.id not in self._not_counted
                self._not_counted.discard(item.id)
                replies += await self._keep(item, counted and tried)
                return Drained(replies, pending=True)
            replies += delivered
            if any(isinstance(m.meta.get("handoff"), dict) for m in delivered):
                break  # a person took over; the rest of the outbox went with it
        return Drained(replies, pending=False)

    async def drain_when_free(self, conversation_id: str) -> Drained:
        async with self.lock(conversation_id):
            return await self.drain(conversation_id)

    async def _deliver(self, item: OutboxItem) -> list[Message] | None:
        """The item's replies, stored and published; None if it must wait."""
        conversation = await self.store.get_conversation(item.conversation_id)
        fresh = item.id in self._fresh
        self._fresh.discard(item.id)
        try:
            if conversation is None:
                replies: list[Reply] = []
            elif item.kind == "resume":
                replies = await self._resume(item, conversation.language)
            else:
                replies = await self._ask(item, conversation, fresh)
        except StillInRasa as exc:
            # Not a sign that the bot is down, and no failed attempt: just not yet.
            self._not_counted.add(item.id)
            log.info("kept %s item %d for %s: %s", item.kind, item.id, item.conversation_id, exc)
            return None
        except BotUnavailable as exc:
            self._bot_down = True
            self.metrics.errors.labels("bot_unavailable").inc()
            log.warning("kept %s item %d for %s: %s", item.kind, item.id, item.conversation_id, exc)
            return None
        if self.add_lines is not None and conversation is not None and item.seq is not None:
            turn_id = message_id(item.conversation_id, item.seq)
            replies = await self.add_lines(conversation, turn_id, replies)
        for reply in replies:
            if item.seq is not None:
                reply.meta["reply_to"] = item.seq
        stored = await self.store.add_replies(item.conversation_id, replies, completes=item)
        self._publish(stored)
        log.info("bot answered %s item %d: %d replies", item.kind, item.id, len(stored))
        for message in stored:
            self.metrics.decision(message.meta, conversation.language if conversation else "")
        if item.kind == "message":
            self.hub.publish(item.conversation_id, {"type": "typing", "on": False})
        for message in list(stored):
            handoff = message.meta.get("handoff")
            if isinstance(handoff, dict) and self.on_handoff is not None:
                current = await self.store.get_conversation(item.conversation_id)
                if current is not None:
                    stored += await self.on_handoff(current, handoff)
        return stored

    async def _ask(self, item: OutboxItem, conversation: Conversation, fresh: bool) -> list[Reply]:
        assert item.seq is not None
        if self._bot_down:
            raise BotUnavailable("the bot was down a moment ago; waiting for it to be back")
        message = await self.store.message(item.conversation_id, item.seq)
        if message is None:
            return []
        turn_id = message_id(item.conversation_id, item.seq)
        if not fresh:
            # This item may have reached Rasa before: look before sending it again.
            tracker = await self.rasa.tracker(item.conversation_id)
            if tracker.get("paused"):
                # The gateway owns who answers: the bot does (state `bot`).
                await self.rasa.resume(item.conversation_id)
            earlier = find_turn(tracker.get("events") or [], turn_id)
            if earlier:
                log.info("message %s was answered before the gateway stored it", turn_id)
                await self.coordination.clear_doubt(item.id)
                return earlier
            if earlier is None and await self.coordination.in_doubt(item.id):
                raise StillInRasa(f"Rasa may still be handling {turn_id}; waiting")
            if earlier is not None:
                await self.rasa.rewind(item.conversation_id)
        # "The bot is typing" until its replies are out (`_deliver` turns it off).
        self.hub.publish(item.conversation_id, {"type": "typing", "on": True})
        try:
            with self.metrics.bot_reply.time():
                return await self.rasa.send(
                    item.conversation_id,
                    for_bot(message.payload or message.text),
                    {"language": conversation.language},
                    turn_id,
                )
        except BotUnavailable as exc:
            self.hub.publish(item.conversation_id, {"type": "typing", "on": False})
            if exc.timed_out:
                await self.coordination.mark_in_doubt(item.id)
            if exc.silent:
                with suppress(BotUnavailable):  # else the tracker lookup rewinds it later
                    await self.rasa.rewind(item.conversation_id)
            raise

    async def _resume(self, item: OutboxItem, language: str) -> list[Reply]:
        await self.rasa.resume(item.conversation_id)
        if not item.ask_rating:
            return []
        return await self.rasa.trigger_intent(item.conversation_id, "handoff_done", language)

    async def _keep(self, item: OutboxItem, counted: bool) -> list[Message]:
        """The item waits. Tell the customer once per kept message (the items behind it
        wait untried: one notice covers them); give up on a message the bot keeps
        failing on while everything looks healthy. Items delivered before it in this
        drain do not count as telling: their answers just arrived, so without its own
        notice this message would look answered-to-be while it waits."""
        told_already = item.notified
        item = await self.store.note_delivery_attempt(item, counted=counted)
        conversation = await self.store.get_conversation(item.conversation_id)
        language = conversation.language if conversation else "en"
        if item.attempts >= self.max_attempts:
            log.error(
                "giving up on %s item %d for %s after %d attempts",
                item.kind,
                item.id,
                item.conversation_id,
                item.attempts,
            )
            self.metrics.errors.labels("message_failed").inc()
            replies = []
            if item.kind == "message":
                replies = [
                    Reply(
                        text=self.texts.say("message_failed", language),
                        role="system",
                        meta={"error": "message_failed", "reply_to": item.seq},
                    )
                ]
            stored = await self.store.add_replies(item.conversation_id, replies, completes=item)
            self._publish(stored)
            return stored
        if told_already or item.kind != "message":
            return []
        notice = Reply(
            text=self.texts.say("bot_down", language),
            buttons=[
                {
                    "title": self.texts.say("bot_down_person_button", language),
                    "payload": REQUEST_PERSON_PAYLOAD,
                }
            ],
            role="system",
            meta={"error": "bot_unavailable", "reply_to": item.seq},
        )
        stored = await self.store.add_replies(item.conversation_id, [notice])
        self._publish(stored)
        return stored

    def _publish(self, messages: list[Message]) -> None:
        for message in messages:
            self.metrics.messages.labels("out", message.role).inc()
            self.hub.publish(message.conversation_id, {"type": "message", **message.public()})

    # -- retrying ------------------------------------------------------------------------

    async def redeliver(self) -> int:
        """One pass over every waiting conversation, if every part is up; returns how
        many conversations were tried."""
        waiting = await self.store.outbox_conversations()
        self.metrics.waiting_for_bot.set(len(waiting))
        if not waiting:
            return 0
        if not await self._probe():
            return 0
        gate = asyncio.Semaphore(REDELIVERY_CONCURRENCY)

        async def one(conversation_id: str) -> None:
            # Its own task (gather): what this delivery logs carries its conversation.
            with conversation_context(conversation_id):
                async with gate, self.lock(conversation_id):
                    await self.drain(conversation_id, counted=True)

        await asyncio.gather(*(one(c) for c in waiting))
        return len(waiting)

    async def _probe(self) -> bool:
        """Whether Rasa and the action server both answer their health checks."""
        health = await self.rasa.parts_health()
        self._bot_down = any(status != "up" for status in health.values())
        return not self._bot_down

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Retry what is kept, every second, for as long as the gateway runs."""
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RETRY_SECONDS)
            self._wake.clear()
            try:
                await self.redeliver()
            except STORE_UNAVAILABLE as exc:
                log.warning("redelivery waits for the store (%s)", type(exc).__name__)
                await self.store.forget_connections()
            except Exception:
                log.exception("redelivery pass failed; trying again in %.0f s", RETRY_SECONDS)
