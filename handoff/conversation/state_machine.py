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
