"""Conversation logic shared by the HTTP API and the websocket.

A customer message is persisted first (with its outbox item while the bot owns the
conversation), then acknowledged, then handed to the bot through the relay
(bot_relay.py), which keeps it if the bot is down and answers it exactly once when the
bot is back. Messages of one conversation are handled one at a time, so replies come
back in order even if a customer sends quickly.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.language import SUPPORTED_LANGUAGES, detect_language
from common.pii import mask_secrets
from handoff.conversation.bot_relay import REQUEST_PERSON_PAYLOAD, BotRelay
from handoff.conversation.handoff_service import HandoffService
from handoff.conversation.models import Conversation, Message, State, StoredCustomerMessage
from handoff.customer.texts import GatewayTexts
from handoff.realtime.hub import Realtime
from handoff.store.interface import Store

log = logging.getLogger(__name__)


class InvalidMessage(ValueError):
    """A customer message the gateway refuses; the text says why."""


@dataclass(frozen=True)
class Exchange:
    """The outcome of one customer message."""

    customer_message: Message
    replies: list[Message]
    duplicate: bool  # the same client_id was already stored (a resend)
    pending: bool = False  # kept for the bot, which will answer it when it is back
    # The conversation's state as the message found it (None on a resend: not read). A
    # caller that keeps a Conversation (a customer's websocket) keeps it current with it.
    state: State | None = None


def check_message(text: object, payload: object, limit: int) -> tuple[str, str | None]:
    """(text to store, payload to send) from a message's fields, or InvalidMessage.

    The same rules as the message body in the OpenAPI document (tests hold the two
    together): `text` and `payload` are strings within `limit` when present, and one of
    them has visible content (a payload's text is only its label)."""
    for name, value in (("text", text), ("payload", payload)):
        if value is not None and not isinstance(value, str):
            raise InvalidMessage(f"'{name}' must be a string")
        if isinstance(value, str) and len(value) > limit:
            raise InvalidMessage(
                f"{name} is {len(value)} characters; the limit is {limit}. "
                "Please split it into shorter messages."
            )
    if isinstance(payload, str):
        if not payload.strip():
            raise InvalidMessage("'payload' must be a non-empty string")
        label = text if isinstance(text, str) and text.strip() else payload
        return label.strip(), payload.strip()
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("send {'text': '...'} with a non-empty string, or {'payload': '...'}")
    return text.strip(), None


class ConversationService:
    def __init__(
        self,
        store: Store,
        relay: BotRelay,
        hub: Realtime,
        texts: GatewayTexts,
        max_message_chars: int,
        handoff: HandoffService,
    ) -> None:
        self.store = store
        self.relay = relay
        self.hub = hub
        self.texts = texts
        self.max_message_chars = max_message_chars
        self.handoff = handoff

    async def start_conversation(
        self, language: str | None, customer: dict[str, Any]
    ) -> tuple[Conversation, str]:
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise InvalidMessage(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return await self.store.create_conversation(language or "en", customer)

    def validate(self, text: object, payload: object) -> tuple[str, str | None]:
        """Return (text to store, payload to send) or raise InvalidMessage."""
        return check_message(text, payload, self.max_message_chars)

    async def handle_customer_message(
        self,
        conversation: Conversation,
        text: str | None,
        payload: str | None = None,
        client_id: str | None = None,
        on_stored: Callable[[Message], None] | None = None,
    ) -> Exchange:
        """Persist the message, tell `on_stored` (the ack), then get the replies."""
        shown_text, rasa_payload = self.validate(text, payload)
        # Card numbers and national ids are never stored, so never sent anywhere either.
        shown_text = mask_secrets(shown_text)
        rasa_payload = mask_secrets(rasa_payload) if rasa_payload is not None else None
        stored: StoredCustomerMessage | None = None
        if conversation.state == "assigned":
            # An agent owns the chat (as the caller last saw it): nothing goes to the bot,
            # so the message is stored without the relay's lock (across replicas that
            # lock costs Redis round trips on every message). The store says who owns
            # the chat under the row's lock: if the bot had it back meanwhile, the
            # message was queued for the bot and is answered under the lock below.
            stored = await self._store(conversation.id, shown_text, rasa_payload, client_id)
            if stored.is_new and stored.item is None and stored.agent is not None:
                if on_stored is not None:
                    on_stored(stored.message)
                self._announce(stored.message)
                await self._track_language(
                    _as_found(conversation, stored), shown_text, rasa_payload
                )
                self.handoff.relay_to_agent(stored.agent, conversation.id, stored.message)
                return Exchange(stored.message, [], False, state=stored.state)
        async with self.relay.lock(conversation.id):
            if stored is None:
                stored = await self._store(conversation.id, shown_text, rasa_payload, client_id)
            message, item = stored.message, stored.item
            if on_stored is not None:
                on_stored(message)
            if not stored.is_new:
                # A resend (the connection dropped before the answer): the same outcome again.
                later = await self.store.messages(conversation.id, after_seq=message.seq)
                replies = [m for m in later if m.meta.get("reply_to") == message.seq]
                waiting = any(
                    i.seq == message.seq for i in await self.store.outbox(conversation.id)
                )
                if waiting and all(m.meta.get("error") == "bot_unavailable" for m in replies):
                    # Stored, but not answered (the gateway died in between, or the bot
                    # was down): try now, as for a new message, rather than leave the
                    # customer waiting for the background retry. `drain` answers it, or
                    # keeps it and tells the customer (once per outage).
                    drained = await self.relay.drain(conversation.id)
                    replies += drained.replies
                    waiting = drained.pending
                return Exchange(message, replies, duplicate=True, pending=waiting)
            self._announce(message)
            # The state may have changed since the caller looked (an agent joined).
            conversation = _as_found(conversation, stored)
            await self._track_language(conversation, shown_text, rasa_payload)
            if item is None:  # people own the conversation
                replies = await self.handoff.customer_message(conversation, message, rasa_payload)
                if conversation.state == "assigned":
                    # Relayed to the agent; the outbox is empty while people own the chat.
                    return Exchange(message, replies, False, state=stored.state)
                # Leaving the queue (cancel, ticket) gives the chat back to the bot now.
                replies += (await self.relay.drain(conversation.id)).replies
                return Exchange(message, replies, False, state=stored.state)
            if rasa_payload and rasa_payload.startswith("/rate"):
                await self._store_rating(conversation.id, rasa_payload)
            self.relay.note_new(item)
            drained = await self.relay.drain(conversation.id)
            replies = drained.replies
            if drained.pending and self._asks_for_person(shown_text, rasa_payload):
                # Nobody can read intents while the bot is down: the gateway hands over.
                current = await self.store.get_conversation(conversation.id) or conversation
                replies += await self.handoff.escalate(
                    current, {"reason": "requested", "bot_unavailable": True}
                )
                return Exchange(message, replies, duplicate=False, state=stored.state)
            return Exchange(
                message, replies, duplicate=False, pending=drained.pending, state=stored.state
            )

    async def _store(
        self, conversation_id: str, text: str, payload: str | None, client_id: str | None
    ) -> StoredCustomerMessage:
        return await self.store.add_customer_message(
            conversation_id, text, payload=payload, client_id=client_id
        )

    def _announce(self, message: Message) -> None:
        """Count a new customer message and show it on the conversation's channel."""
        self.relay.metrics.messages.labels("in", "customer").inc()
        self.hub.publish(message.conversation_id, {"type": "message", **message.public()})

    def _asks_for_person(self, text: str, payload: str | None) -> bool:
        if payload is not None:
            return payload == REQUEST_PERSON_PAYLOAD
        return self.texts.mentions("ask_for_person", text)

    async def _store_rating(self, conversation_id: str, payload: str) -> None:
        digits = [ch for ch in payload if ch.isdigit()]
        if len(digits) == 1 and 1 <= int(digits[0]) <= 5:
            latest = await self.handoff.handoffs.latest_handoff(conversation_id)
            await self.handoff.handoffs.add_rating(conversation_id, int(digits[0]), latest)

    async def _track_language(
        self, conversation: Conversation, text: str, payload: str | None
    ) -> str:
        detected = None if payload else detect_language(text)
        if detected and detected != conversation.language:
            await self.store.set_language(conversation.id, detected)
            return detected
        return conversation.language


def _as_found(conversation: Conversation, stored: StoredCustomerMessage) -> Conversation:
    """The conversation as the stored message found it (the caller's copy may be old)."""
    if stored.state is None or stored.language is None:
        return conversation
    return dataclasses.replace(conversation, state=stored.state, language=stored.language)
