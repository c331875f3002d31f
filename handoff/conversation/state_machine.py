"""Who owns a conversation, and the only ways that can change.

    bot --escalate--> queued --assign--> assigned --resolve--> resolved --return_to_bot--> bot
                                         assigned --reassign--> assigned  (another agent)
                                         assigned --transfer--> assigned  (the agent's colleague)
                      queued <--transfer_to_queue-- assigned  (a team/skill queue)
                      queued --cancel--> cancelled --return_to_bot--> bot
                      queued --take_ticket--> offline_ticket --return_to_bot--> bot
                      queued --abandon--> abandoned

Every transition is written as an event (conversation, name, from, to, data)
in the same transaction as the state change, and the state change only happens
if the conversation is still in the `from` state: two agents accepting the same
chat cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATES = ("bot", "queued", "assigned", "resolved", "cancelled", "offline_ticket", "abandoned")

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "escalate": (("bot",), "queued"),
    "assign": (("queued",), "assigned"),
    # A supervisor moves the chat to another agent; the state stays, the event records
    # who had it, who has it now and who moved it. Two reassigns cannot both win: the
    # handoff row changes only if it still belongs to the agent the move started from.
    "reassign": (("assigned",), "assigned"),
    # The agent who has the chat passes it on, with a reason (HandoffService.transfer):
    # to a colleague (the state stays; the event records from, to and the reason) or back
    # to the queue for a team (a skill), where the team's agents accept it as any chat.
    "transfer": (("assigned",), "assigned"),
    "transfer_to_queue": (("assigned",), "queued"),
    "resolve": (("assigned",), "resolved"),
    "cancel": (("queued",), "cancelled"),
    "take_ticket": (("queued",), "offline_ticket"),
    "abandon": (("queued",), "abandoned"),
    "return_to_bot": (("resolved", "cancelled", "offline_ticket", "abandoned"), "bot"),
}

# While in these states customer messages go to people, not to Rasa.
HUMAN_STATES = ("queued", "assigned")


# An offline ticket's own states (handoff/conversation/tickets.py works them), beside the
# conversation's: the conversation went back to the bot when the ticket was taken, and its
# state does not change while an agent works the ticket. Each change is an event in the
# conversation's history named "ticket_" + the transition (ticket_claim, ...), whose
# from/to are the conversation's state (unchanged) and whose data holds the ticket's.
#
#     open --claim--> claimed --reply--> answered --reply--> answered
#     open <--release-- claimed            claimed/answered --close--> closed
#
# Only the agent who claimed a ticket may reply to it, release it or close it. A customer
# who writes again after a ticket was closed, and again finds nobody, leaves a new ticket
# (the old one keeps its history; both open the same conversation).
TICKET_STATES = ("open", "claimed", "answered", "closed")
TICKET_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": (("open",), "claimed"),
    "release": (("claimed",), "open"),
    "reply": (("claimed", "answered"), "answered"),
    "close": (("claimed", "answered"), "closed"),
}


def ticket_event_name(transition: str) -> str:
    """The name of a ticket transition's event in the conversation's history."""
    return f"ticket_{transition}"


class TicketRefused(Exception):
    """A ticket transition that cannot be done; `code` is machine-readable (the API's 409)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def ticket_target(transition: str, state: str, claimed_by: str | None, agent: str) -> str:
    """The state `transition` by `agent` leads a ticket to from `state` (claimed by
    `claimed_by`), or TicketRefused: `ticket_closed`, `ticket_claimed` (someone has it),
    `ticket_not_claimed` (nobody does: claim it first), `not_yours` (a colleague has it),
    `wrong_state` (anything else, e.g. releasing an answered ticket)."""
    if transition not in TICKET_TRANSITIONS:
        raise ValueError(f"no ticket transition {transition!r}")
    sources, destination = TICKET_TRANSITIONS[transition]
    if state == "closed":
        raise TicketRefused("ticket_closed", "this ticket is closed")
    if transition == "claim":
        if state != "open":
            raise TicketRefused("ticket_claimed", f"this ticket is claimed by {claimed_by}")
        return destination
    if state == "open":
        raise TicketRefused("ticket_not_claimed", "claim this ticket first")
    if claimed_by != agent:
        raise TicketRefused("not_yours", f"this ticket is claimed by {claimed_by}")
    if state not in sources:
        raise TicketRefused("wrong_state", f"cannot {transition} a ticket that is {state}")
    return destination


class InvalidTransition(Exception):
    """The conversation is not in a state this transition starts from."""

    def __init__(self, name: str, current: str) -> None:
        self.name = name
        self.current = current
        allowed = ", ".join(TRANSITIONS[name][0]) if name in TRANSITIONS else "?"
        super().__init__(f"cannot {name} a conversation that is {current} (needs: {allowed})")


@dataclass(frozen=True)
class TransitionEvent:
    conversation_id: str
    name: str
    from_state: str
    to_state: str
    data: dict[str, Any]
    ts: str

    def frame(self) -> dict[str, Any]:
        return {
            "type": "event",
            "conversation_id": self.conversation_id,
            "name": self.name,
            "from": self.from_state,
            "to": self.to_state,
            "ts": self.ts,
        }


def target(name: str, current: str) -> str:
    """The state `name` leads to from `current`, or InvalidTransition."""
    if name not in TRANSITIONS:
        raise InvalidTransition(name, current)
    sources, destination = TRANSITIONS[name]
    if current not in sources:
        raise InvalidTransition(name, current)
    return destination
