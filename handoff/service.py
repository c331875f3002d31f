"""Conversation logic shared by the HTTP API and the websocket.

A customer message is persisted first, then relayed to Rasa; the bot's replies
are persisted, then published. Messages of one conversation are handled one at
a time, so replies come back in order even if a customer sends quickly.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.language import SUPPORTED_LANGUAGES, detect_language
from handoff.handoff_service import HandoffService
from handoff.hub import Hub
from handoff.models import Conversation, Message, Reply
from handoff.rasa_client import BotUnavailable, RasaClient
from handoff.state_machine import HUMAN_STATES
from handoff.store import Store
from handoff.texts import BOT_UNAVAILABLE, localized

log = logging.getLogger(__name__)


class InvalidMessage(ValueError):
    """A customer message the gateway refuses; the text says why."""


@dataclass(frozen=True)
class Exchange:
    """The outcome of one customer message."""

    customer_message: Message
    replies: list[Message]
    duplicate: bool  # the same client_id was already stored (a resend)


class ConversationService:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        hub: Hub,
        max_message_chars: int,
        handoff: HandoffService,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.hub = hub
        self.max_message_chars = max_message_chars
        self.handoff = handoff
        # Weak values: a conversation's lock lives only while someone uses it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def start_conversation(
        self, language: str | None, customer: dict[str, Any]
    ) -> tuple[Conversation, str]:
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise InvalidMessage(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return await self.store.create_conversation(language or "en", customer)

    def validate(self, text: str | None, payload: str | None) -> tuple[str, str | None]:
        """Return (text to store, payload to send) or raise InvalidMessage."""
        if payload is not None:
            if not isinstance(payload, str) or not payload.strip():
                raise InvalidMessage("'payload' must be a non-empty string")
            if len(payload) > self.max_message_chars:
                raise InvalidMessage(
                    f"'payload' is longer than {self.max_message_chars} characters"
                )
            label = text if isinstance(text, str) and text.strip() else payload
            return label.strip()[: self.max_message_chars], payload.strip()
        if not isinstance(text, str) or not text.strip():
            raise InvalidMessage(
                "send {'text': '...'} with a non-empty string, or {'payload': '...'}"
            )
        if len(text) > self.max_message_chars:
            raise InvalidMessage(
                f"message is {len(text)} characters; the limit is {self.max_message_chars}. "
                "Please split it into shorter messages."
            )
        return text.strip(), None

    async def handle_customer_message(
        self,
        conversation: Conversation,
        text: str | None,
        payload: str | None = None,
        client_id: str | None = None,
        on_stored: Callable[[Message], None] | None = None,
    ) -> Exchange:
        """Persist the message, tell `on_stored` (the ack), then get the bot's replies."""
        shown_text, rasa_payload = self.validate(text, payload)
        lock = self._locks.get(conversation.id)
        if lock is None:
            lock = self._locks[conversation.id] = asyncio.Lock()
        async with lock:
            stored, is_new = await self.store.add_message(
                conversation.id, "customer", shown_text, payload=rasa_payload, client_id=client_id
            )
            if on_stored is not None:
                on_stored(stored)
            if not is_new:
                return Exchange(stored, [], duplicate=True)
            self.hub.publish(conversation.id, {"type": "message", **stored.public()})
            # The state may have changed since the caller looked (an agent joined).
            conversation = await self.store.get_conversation(conversation.id) or conversation
            language = await self._track_language(conversation, shown_text, rasa_payload)
            if conversation.state in HUMAN_STATES:
                replies = await self.handoff.customer_message(conversation, stored, rasa_payload)
                return Exchange(stored, replies, duplicate=False)
            if rasa_payload and rasa_payload.startswith("/rate"):
                await self._store_rating(conversation.id, rasa_payload)
            replies = await self._ask_bot(conversation.id, rasa_payload or shown_text, language)
            for reply in list(replies):
                if isinstance(reply.meta.get("handoff"), dict):
                    current = await self.store.get_conversation(conversation.id) or conversation
                    replies += await self.handoff.escalate(current, reply.meta["handoff"])
            return Exchange(stored, replies, duplicate=False)

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

    async def _ask_bot(self, conversation_id: str, message: str, language: str) -> list[Message]:
        self.hub.publish(conversation_id, {"type": "typing", "on": True})
        started = time.perf_counter()
        try:
            replies = await self.rasa.send(conversation_id, message, {"language": language})
        except BotUnavailable as exc:
            log.warning("bot unavailable for %s: %s", conversation_id, exc)
            replies = [
                Reply(
                    text=localized(BOT_UNAVAILABLE, language),
                    role="system",
                    meta={"error": "bot_unavailable", "detail": str(exc)},
                )
            ]
        log.debug("rasa round trip %.1f ms", (time.perf_counter() - started) * 1000)
        stored = await self.store.add_replies(conversation_id, replies)
        for reply_message in stored:
            self.hub.publish(conversation_id, {"type": "message", **reply_message.public()})
        self.hub.publish(conversation_id, {"type": "typing", "on": False})
        return stored
