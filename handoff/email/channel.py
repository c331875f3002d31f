"""A customer's emailed reply joins their conversation and reaches the people on it.

The mail's text is stored as customer messages (`meta["channel"] = "email"`; card numbers
and national ids masked, as in a chat; a resend of the same mail, by Message-ID, is stored
once) and shown on the conversation's channel (the widget, if open). It never goes to the
bot: a bot's answer could not reach the customer's mailbox. Who hears of it:

- an agent has the chat (assigned): it is relayed to them, as a chat message is;
- it is waiting in the queue: the queue's summary shows it;
- otherwise, the conversation's latest ticket: still at the desk (open, claimed or
  answered), the message joins it, and the agent who claimed it is told; closed (or
  none), a new ticket opens with this text and the earlier ticket's contact details, as a
  returning customer's offline message makes one (a closed ticket is never reopened).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Literal

from common.pii import mask_secrets
from handoff.conversation.handoff_service import HandoffService
from handoff.conversation.models import Message
from handoff.email.inbound import InboundRefused, InboundReply

log = logging.getLogger(__name__)

# A long mail is stored as several messages of at most the message limit, up to this many.
MAX_PARTS = 10

Route = Literal["agent", "queue", "ticket", "new_ticket", "duplicate"]


@dataclass(frozen=True)
class Received:
    messages: list[Message]
    route: Route
    ticket_id: int | None = None


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at a line break when one is
    near; at most MAX_PARTS pieces (the rest of a very long mail is dropped)."""
    parts: list[str] = []
    rest = text.strip()
    while rest and len(parts) < MAX_PARTS:
        if len(rest) <= limit:
            parts.append(rest)
            break
        cut = rest.rfind("\n", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [part for part in parts if part]


class EmailInbox:
    def __init__(self, handoff: HandoffService, max_message_chars: int) -> None:
        self.handoff = handoff
        self.store = handoff.store
        self.max_message_chars = max_message_chars

    async def receive(self, reply: InboundReply) -> Received:
        conversation = await self.store.get_conversation(reply.conversation_id)
        if conversation is None:  # the token was good, the conversation is gone
            raise InboundRefused("not_found", "that conversation no longer exists", status=404)
        key = hashlib.sha256(reply.message_id.encode()).hexdigest()[:40]
        stored: list[Message] = []
        for number, part in enumerate(split_text(reply.text, self.max_message_chars)):
            message, is_new = await self.store.add_message(
                conversation.id,
                "customer",
                mask_secrets(part),
                client_id=f"email:{key}:{number}" if reply.message_id else None,
                meta={"channel": "email"},
            )
            if is_new:
                stored.append(message)
        if not stored:
            return Received([], "duplicate")
        for message in stored:
            self.handoff.metrics.messages.labels("in", "customer").inc()
            self.handoff.hub.publish(conversation.id, {"type": "message", **message.public()})
        received = await self._route(conversation.id, conversation.language, stored, reply)
        log.info(
            "email reply stored: %d message(s), to %s", len(stored), received.route
        )  # ids only: never the sender's address or the text
        return received

    async def _route(
        self, conversation_id: str, language: str, stored: list[Message], reply: InboundReply
    ) -> Received:
        handoff = await self.handoff.handoffs.open_handoff(conversation_id)
        if handoff is not None and handoff.status == "assigned" and handoff.agent:
            for message in stored:
                self.handoff.relay_to_agent(handoff.agent, conversation_id, message)
            return Received(stored, "agent")
        if handoff is not None and handoff.status == "queued":
            await self.handoff.broadcast_queue()
            return Received(stored, "queue")
        ticket = await self.store.latest_ticket(conversation_id)
        if ticket is not None and ticket["state"] != "closed":
            if ticket["claimed_by"]:
                for message in stored:
                    self.handoff.relay_to_agent(ticket["claimed_by"], conversation_id, message)
            await self.handoff.tickets.announce(ticket)
            return Received(stored, "ticket", ticket["ticket_id"])
        contact = dict(ticket["contact"]) if ticket is not None else {}
        if not contact.get("email") and reply.sender:
            contact["email"] = reply.sender
        text = "\n".join(message.text for message in stored)
        ticket_id = await self.handoff.handoffs.create_ticket(
            conversation_id, language, contact, text
        )
        created = await self.handoff.handoffs.ticket(ticket_id)
        if created is not None:
            await self.handoff.tickets.announce(created)
        return Received(stored, "new_ticket", ticket_id)
