"""Conversations and messages as the gateway stores and serves them.

Schema (SQLite; see store.py):
  conversations(id, token_hash, language, state, customer_json, created_at, updated_at)
  messages(conversation_id, seq, role, text, payload, client_id, buttons_json,
           links_json, meta_json, ts)   -- unique (conversation_id, seq) and
                                         -- (conversation_id, client_id)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["customer", "bot", "agent", "system"]
State = Literal["bot", "queued", "assigned", "resolved", "cancelled", "offline_ticket", "abandoned"]


@dataclass(frozen=True)
class Conversation:
    id: str
    language: str
    state: State
    customer: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Message:
    conversation_id: str
    seq: int
    role: Role
    text: str
    ts: str
    payload: str | None = None
    client_id: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    # Not shown to customers: intent, KB decision, ... for agents and designers.
    meta: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The message as a customer may see it."""
        out: dict[str, Any] = {"seq": self.seq, "role": self.role, "text": self.text, "ts": self.ts}
        if self.buttons:
            out["buttons"] = self.buttons
        if self.links:
            out["links"] = self.links
        return out


@dataclass
class Reply:
    """A bot reply before it is stored."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    role: Role = "bot"
