"""Offline tickets, worked at the agents' desk: claim, reply, release, close.

A ticket is what a customer leaves when nobody can take their chat (HandoffService's
offline message). An agent claims it (of two claiming at once exactly one wins), replies,
and closes it; they may release a claim they have not answered yet. Only the agent who
claimed a ticket may reply to, release or close it; supervisors work tickets the same way.
The ticket's states and who may change them: state_machine.TICKET_TRANSITIONS. Every change
is an event in the conversation's history, written with the ticket's row.

A reply is a system line in the customer's language (gateway_texts.yml `ticket_answered`)
and the agent's message, both stored in the conversation the ticket was left in, so the
customer reads them in their own transcript when they come back; `deliver_ticket_reply`
then sends them on (today: the customer's websocket, if they are connected).

A customer who writes again after their ticket was closed talks to the bot; if they again
find nobody, their new message becomes a new ticket (the old one keeps its history, and
both open the same conversation): a closed ticket is never reopened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from common.pii import mask_secrets
from handoff.conversation.models import Message, Reply
from handoff.conversation.state_machine import TICKET_STATES
from handoff.customer.texts import GatewayTexts
from handoff.realtime.hub import Realtime
from handoff.store.interface import Handoffs, Store
from handoff.web.metrics import Metrics

log = logging.getLogger(__name__)


class TicketReplyDelivery(Protocol):
    """How an agent's reply to a ticket reaches the customer, once it is stored."""

    async def deliver_ticket_reply(self, ticket: dict[str, Any], messages: list[Message]) -> None:
        """Send the stored reply `messages` (the system line, then the agent's message) of
        `ticket` (store.interface.ticket_dict: its contact details, language and
        conversation) to the customer. Called after the store committed them: the
        customer's transcript has them whatever this does, and a failure here is logged,
        never undone.

        The email channel plugs in here: an implementation that also mails the reply to
        `ticket["contact"]["email"]` (in `ticket["language"]`), composed with this one."""
        ...


class WidgetDelivery:
    """The reply to the customer's open websocket(s), on whichever gateway replica: a
    customer who is not connected reads it when the widget reloads the conversation."""

    def __init__(self, hub: Realtime) -> None:
        self.hub = hub

    async def deliver_ticket_reply(self, ticket: dict[str, Any], messages: list[Message]) -> None:
        for message in messages:
            self.hub.publish(ticket["conversation_id"], {"type": "message", **message.public()})


class TicketDesk:
    """The agent-side operations on offline tickets (handoff/agent/tickets_api.py)."""

    def __init__(
        self,
        store: Store,
        handoffs: Handoffs,
        hub: Realtime,
        texts: GatewayTexts,
        metrics: Metrics,
        channel_of: Callable[[str], str],
        delivery: TicketReplyDelivery | None = None,
    ) -> None:
        self.store = store
        self.channel_of = channel_of  # an agent's console channel (handoff_service.agent_channel)
        self.handoffs = handoffs
        self.hub = hub
        self.texts = texts
        self.metrics = metrics
        self.delivery: TicketReplyDelivery = delivery or WidgetDelivery(hub)

    async def tickets(self, view: str, agent: str) -> list[dict[str, Any]]:
        """A view of the desk (store.interface.TICKET_VIEWS), newest first."""
        return await self.handoffs.tickets(view, agent)

    async def change(
        self, ticket_id: int, transition: str, agent: str, resolution: str | None = None
    ) -> dict[str, Any]:
        """Claim, release or close; KeyError (no such ticket) or TicketRefused pass on."""
        if resolution is not None:  # for the desk only; card numbers and ids masked all the same
            resolution = mask_secrets(resolution)
        ticket = await self.handoffs.change_ticket(ticket_id, transition, agent, resolution)
        # Ids and states only: the ticket's message and contact details stay out of logs.
        log.info("ticket %d: %s by %s, now %s", ticket_id, transition, agent, ticket["state"])
        await self._announce(ticket)
        return ticket

    async def reply(self, ticket_id: int, agent: str, text: str) -> tuple[dict[str, Any], Message]:
        """Store the agent's reply in the ticket's conversation (card numbers and national
        ids masked, as in a chat; an email address or phone number the agent writes stays,
        for the customer), mark the ticket answered, and deliver it. Returns the ticket and
        the agent's message."""
        ticket = await self.handoffs.ticket(ticket_id)
        if ticket is None:
            raise KeyError(ticket_id)
        notice = self.texts.say("ticket_answered", ticket["language"], ticket=ticket_id)
        ticket, stored = await self.store.add_ticket_reply(
            ticket_id,
            agent,
            [Reply(text=notice, role="system"), Reply(text=mask_secrets(text), role="agent")],
        )
        log.info("ticket %d: reply by %s (%d characters)", ticket_id, agent, len(text))
        self.metrics.messages.labels("out", "agent").inc()
        try:
            await self.delivery.deliver_ticket_reply(ticket, stored)
        except Exception:  # stored and in the transcript: the customer reads it on return
            log.exception("ticket %d: the reply is stored but could not be delivered", ticket_id)
        await self._announce(ticket)
        return ticket, stored[-1]

    async def announce(self, ticket: dict[str, Any]) -> None:
        """Tell every agent's consoles that `ticket` changed (a customer's emailed reply
        joined it, or opened it: handoff/email/channel.py)."""
        await self._announce(ticket)

    async def _announce(self, ticket: dict[str, Any]) -> None:
        """Every agent's consoles (on any replica) learn of the change, so a colleague's
        list shows at once who has the ticket now: its id, state and claimer only."""
        assert ticket["state"] in TICKET_STATES
        frame = {
            "type": "ticket",
            "ticket_id": ticket["ticket_id"],
            "state": ticket["state"],
            "claimed_by": ticket["claimed_by"],
        }
        for agent in await self.handoffs.agents():
            self.hub.publish(self.channel_of(agent.username), frame)
