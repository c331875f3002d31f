"""Conversations and messages as the gateway stores and serves them.

Schema (SQLite; see store/sqlite.py):
  conversations(id, token_hash, language, state, customer_json, created_at, updated_at,
                engaged, kb_answered, kb_rejected, last_handoff)  -- the last four: agent/analytics.py
  messages(conversation_id, seq, role, text, payload, client_id, buttons_json,
           links_json, meta_json, ts)   -- unique (conversation_id, seq) and
                                         -- (conversation_id, client_id)
  bot_outbox(id, conversation_id, kind, seq, ask_rating, attempts, notified, created_at)
  conversation_notes(id, conversation_id, author, text, created_at)  -- agents' private notes
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# A text "has content" when it has one character Python's str.strip() keeps. The class
# is spelled out (not \S) because the OpenAPI document carries it as a JSON Schema
# `pattern`, and regex engines disagree on what \s means (\x1c-\x1f, \x85, \ufeff).
VISIBLE_TEXT_PATTERN = (
    r"[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)

# A widget's id for one message (it makes a resend idempotent); a uuid is 36.
MAX_CLIENT_ID_CHARS = 128
# The longest message the API documents (web/request_models.py); Settings.max_message_chars
# (default the same) may only lower it.
MAX_MESSAGE_CHARS = 2000
# Longer is no username of ours: refused before any lookup.
MAX_USERNAME_CHARS = 100

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
        if isinstance(self.meta.get("reply_to"), int):
            out["reply_to"] = self.meta["reply_to"]  # the customer message this answers
        if isinstance(self.meta.get("attachment"), dict):
            # A file sent with the message (handoff/attachments/): id, name, type, size.
            out["attachment"] = self.meta["attachment"]
        if self.meta.get("channel") == "email":
            out["channel"] = "email"  # the customer sent it by email (handoff/email/)
        if article_id := self.answered_article():
            # A KB answer: the widget offers to email it (handoff/email/answers.py).
            out["article_id"] = article_id
        return out

    def answered_article(self) -> str | None:
        """The KB article a bot message answers with (the action server's `kb` metadata),
        or None for any other message."""
        kb = self.meta.get("kb")
        article_id = kb.get("article_id") if isinstance(kb, dict) else None
        return article_id if self.role == "bot" and isinstance(article_id, str) else None


class StoredRow(Protocol):
    """A row of either store backend (sqlite3.Row, asyncpg.Record): read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def message_from_row(row: StoredRow) -> Message:
    """A message as either store keeps it (the same columns on SQLite and PostgreSQL)."""
    return Message(
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        role=row["role"],
        text=row["text"],
        ts=row["ts"],
        payload=row["payload"],
        client_id=row["client_id"],
        buttons=json.loads(row["buttons_json"]),
        links=json.loads(row["links_json"]),
        meta=json.loads(row["meta_json"]),
    )


def message_columns(message: Message) -> dict[str, object]:
    """What either store writes for a message: the `messages` table's columns, in order
    (`message_from_row` reads them back)."""
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "role": message.role,
        "text": message.text,
        "payload": message.payload,
        "client_id": message.client_id,
        "buttons_json": json.dumps(message.buttons, ensure_ascii=False),
        "links_json": json.dumps(message.links, ensure_ascii=False),
        "meta_json": json.dumps(message.meta, ensure_ascii=False),
        "ts": message.ts,
    }


@dataclass
class Reply:
    """A bot reply before it is stored."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    role: Role = "bot"


OutboxKind = Literal["message", "resume"]


@dataclass(frozen=True)
class OutboxItem:
    """Something the bot still has to be told, kept until it has been (bot_relay.py).

    `message`: the customer message `seq`, for Rasa. `resume`: a person gave the chat
    back, so Rasa must be un-paused (and, with `ask_rating`, ask for a rating).
    """

    id: int
    conversation_id: str
    kind: OutboxKind
    seq: int | None
    ask_rating: bool
    attempts: int  # tries while every part reported healthy
    notified: bool  # the customer was told the bot is down


ROLES = ("agent", "supervisor")

# What an agent sets in the console's header (HandoffService.set_availability has what each
# means for routing); stored per agent, so every gateway replica reads the same choice.
Availability = Literal["online", "away", "busy"]
AVAILABILITIES: tuple[Availability, ...] = ("online", "away", "busy")


@dataclass(frozen=True)
class StoredCustomerMessage:
    """What storing a customer message tells the service, read under the same row lock
    as the write, so the service needs no second read to know who owns the chat."""

    message: Message
    is_new: bool  # False: its client_id was stored before (a resend)
    item: OutboxItem | None  # its outbox item, while the bot owns the conversation
    # The conversation as the message found it (None on a resend: not read).
    state: State | None = None
    language: str | None = None
    agent: str | None = None  # whom the chat is assigned to, while it is


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int
    role: str = "agent"  # one of ROLES; a supervisor also sees analytics
    availability: Availability = "online"  # as the agent set it (not whether they are here)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "languages": list(self.languages),
            "skills": list(self.skills),
            "capacity": self.capacity,
            "role": self.role,
            "availability": self.availability,
        }

    def can_take(self, language: str, skill: str | None) -> bool:
        return language in self.languages and (skill is None or skill in self.skills)


def agent_from_row(row: StoredRow) -> Agent:
    """An agent as either store keeps it (the `agents` table, the same on both)."""
    return Agent(
        username=row["username"],
        display_name=row["display_name"],
        languages=tuple(json.loads(row["languages_json"])),
        skills=tuple(json.loads(row["skills_json"])),
        capacity=int(row["capacity"]),
        role=str(row["role"]),
        availability=row["availability"],
    )


@dataclass(frozen=True)
class AgentWrite:
    """What storing an agent's message by their session token tells the service: whose
    session it is (None: unknown or expired, nothing written) and, when the chat is
    theirs, the message and the id of its handoff (None: not theirs, nothing written)."""

    agent: Agent | None
    stored: tuple[Message, int] | None = None


@dataclass(frozen=True)
class Note:
    """A private note on a conversation by an agent or a supervisor: for people at the
    console only. Kept apart from the messages, so no customer read (transcript, widget
    socket, earlier conversations) can ever return one."""

    id: int  # increasing: the order notes were added in
    conversation_id: str
    author: str  # the agent's username
    text: str  # as stored: card numbers and national ids masked
    created_at: str

    def public(self) -> dict[str, Any]:
        """The note as the console shows it (agents and supervisors only)."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "author": self.author,
            "text": self.text,
            "created_at": self.created_at,
        }


@dataclass
class Handoff:
    id: int
    conversation_id: str
    status: str  # queued, assigned, resolved, cancelled, offline_ticket, abandoned
    reason: str
    priority: int
    language: str
    skill: str | None
    agent: str | None
    summary: str
    context: dict[str, Any] = field(default_factory=dict)
    queued_at: float = 0.0
    assigned_at: float | None = None
    closed_at: float | None = None

    def queue_item(self, now: float) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "language": self.language,
            "reason": self.reason,
            "waiting_seconds": int(now - self.queued_at),
            "queued_at": round(self.queued_at, 3),  # orders the items a delta brings
            "summary": self.summary,
            "priority": self.priority,
            "skill": self.skill,
        }


def handoff_from_row(row: StoredRow, context: dict[str, Any] | None = None) -> Handoff:
    """A handoffs row as a Handoff, as either store keeps it; `context` stands in for a
    row read without `context_json` (the queue's light read)."""
    return Handoff(
        id=row["id"],
        conversation_id=row["conversation_id"],
        status=row["status"],
        reason=row["reason"],
        priority=row["priority"],
        language=row["language"],
        skill=row["skill"],
        agent=row["agent"],
        summary=row["summary"],
        context=json.loads(row["context_json"]) if context is None else context,
        queued_at=row["queued_at"],
        assigned_at=row["assigned_at"],
        closed_at=row["closed_at"],
    )
