"""What every store backend implements (SQLite in store/sqlite*.py, PostgreSQL in
store/postgres.py), and the two helpers both use.

`Store` is the conversations side (conversations, messages, the bot outbox, transitions);
`Handoffs` is the people side (agents and their sessions, sign-in lockouts, the handoff
queue, tickets, ratings, agents' private notes on a conversation). A method added to a backend goes here too: mypy then checks both
implementations have it, and tests/handoff/test_store_contract.py that both behave the same.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

from common.pii import mask_secrets
from handoff.agent.passwords import PasswordHasher
from handoff.attachments.model import Attachment
from handoff.conversation.models import (
    Agent,
    AgentWrite,
    Conversation,
    Handoff,
    Message,
    Note,
    OutboxItem,
    Reply,
    Role,
    StoredCustomerMessage,
)
from handoff.conversation.state_machine import TransitionEvent
from handoff.email.model import OutgoingEmail
from handoff.notices.model import Notice
from handoff.store.search import SearchFilters, SearchHit

SESSION_SECONDS = 8 * 3600  # an agent's sign-in lasts one working day
# What a reader may say of an article outside a conversation (add_article_feedback).
ARTICLE_VERDICTS = ("helpful", "not_helpful")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def note_text(text: str) -> str:
    """A note as both backends store it: card numbers and national ids masked, as an agent's
    message is (nobody needs them in full); NUL, which PostgreSQL's text cannot hold, as
    U+FFFD (a note from the web has lost its NULs already, one from elsewhere may not)."""
    return mask_secrets(text).replace("\x00", "\ufffd")


def label_change(before: set[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """What replacing the labels `before` with `labels` adds and removes, each sorted."""
    wanted = set(labels)
    return sorted(wanted - before), sorted(before - wanted)


def label_event(added: list[str], removed: list[str], by: str) -> str:
    """The data of a 'labels' event (a change of labels in the conversation's history)."""
    return json.dumps({"added": added, "removed": removed, "by": by})


def ticket_dict(row: Any) -> dict[str, Any]:
    """A tickets row (either backend's) as the desk and the API show it."""
    return {
        "ticket_id": int(row["id"]),
        "conversation_id": row["conversation_id"],
        "language": row["language"],
        "created_at": row["created_at"],
        "contact": json.loads(row["contact_json"]),
        "message": row["message"],
        "state": row["status"],
        "claimed_by": row["claimed_by"],
        "claimed_at": row["claimed_at"],
        "answered_at": row["answered_at"],
        "closed_at": row["closed_at"],
        "resolution": row["resolution"],
    }


def ticket_event(
    ticket_id: int, transition: str, from_state: str, to_state: str, by: str, **extra: Any
) -> str:
    """The data of a ticket's event in the conversation's history (state_machine.py's
    TICKET_TRANSITIONS): which ticket, its states, who; never the reply's text."""
    return json.dumps(
        {"ticket": ticket_id, "from": from_state, "to": to_state, "by": by, **extra},
        ensure_ascii=False,
    )


# GET /api/agent/tickets?view=: the open ones, the agent's own (claimed or answered), all.
TICKET_VIEWS = ("open", "mine", "all")


def ticket_view_filter(view: str, agent: str, placeholder: str) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause of a ticket view (TICKET_VIEWS) and its parameters; `placeholder`
    is the backend's first one ("?" or "$1"). ValueError for another view."""
    if view == "all":
        return "", ()
    if view == "open":
        return "WHERE status = 'open'", ()
    if view == "mine":
        return (
            f"WHERE claimed_by = {placeholder} AND status IN ('claimed', 'answered')",
            (agent,),
        )
    raise ValueError(f"a ticket view is one of {', '.join(TICKET_VIEWS)}, not {view!r}")


class Store(Protocol):
    async def create_conversation(
        self, language: str, customer: dict[str, Any]
    ) -> tuple[Conversation, str]: ...

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def check_token(self, conversation_id: str, token: str) -> bool: ...

    async def set_language(self, conversation_id: str, language: str) -> None: ...

    async def transition(
        self, conversation_id: str, name: str, data: dict[str, Any] | None = None
    ) -> TransitionEvent: ...

    async def events(self, conversation_id: str) -> list[TransitionEvent]: ...

    async def conversations_of_customer(
        self, customer: dict[str, Any], exclude: str
    ) -> list[Conversation]: ...

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        payload: str | None = None,
        client_id: str | None = None,
        buttons: list[dict[str, str]] | None = None,
        links: list[dict[str, str]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, bool]:
        """Store a message; returns it and whether it is new (False: a resend)."""
        ...

    async def add_agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        *,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, int] | None:
        """Store an agent's message only while the conversation's open handoff is
        assigned to `agent`, checked with the write (a chat moved to a colleague does not
        take the old agent's message). Returns it and the handoff's id; None: not theirs.
        `meta`: the message's extra fields (an attachment's description, say)."""
        ...

    async def add_agent_message_as(self, token: str, conversation_id: str, text: str) -> AgentWrite:
        """`add_agent_message` for whoever holds the agent session `token`: the session is
        checked in the same trip to the database as the write (the console's message
        costs one round trip, not a session read and then a write)."""
        ...

    async def add_attachment(self, attachment: Attachment, data: bytes) -> Attachment:
        """Keep a file sent in a conversation (handoff/attachments/), readable by every
        gateway; returns it as stored (with created_at). KeyError: no such conversation."""
        ...

    async def attachment(
        self, conversation_id: str, attachment_id: str
    ) -> tuple[Attachment, bytes] | None:
        """The attachment and its bytes, only if it belongs to `conversation_id` (None
        otherwise, as for an id that does not exist)."""
        ...

    async def add_customer_message(
        self, conversation_id: str, text: str, *, payload: str | None, client_id: str | None
    ) -> StoredCustomerMessage:
        """Store a customer message; while the bot owns the conversation, also its
        outbox item, in the same transaction. The result also says who owned the
        conversation when the message was stored (state, language, assigned agent)."""
        ...

    async def add_replies(
        self, conversation_id: str, replies: list[Reply], *, completes: OutboxItem | None = None
    ) -> list[Message]:
        """Store a turn's bot replies in one transaction, in order; with `completes`,
        that outbox item is deleted in the same transaction."""
        ...

    async def add_article_feedback(
        self, key: str, article_id: str, kind: str, language: str
    ) -> bool:
        """A reader's verdict on an article outside any conversation (the help centre,
        handoff/helpcentre/feedback.py): one `bot_events` row (`kind` helpful or
        not_helpful, seq 0, `key` as its conversation_id, the day and start now), which
        the article figures count with the bot's. The first verdict per `key` is kept;
        returns whether this one was. ValueError for another kind."""
        ...

    async def add_ticket_reply(
        self, ticket_id: int, agent: str, replies: list[Reply]
    ) -> tuple[dict[str, Any], list[Message]]:
        """An agent's reply to an offline ticket they claimed: `replies` (a system line
        and the agent's message) stored in the ticket's conversation, the ticket `answered`
        and a `ticket_reply` event, in one transaction. Returns the ticket as it is now and
        the stored messages. KeyError: no such ticket; state_machine.TicketRefused: not
        `agent`'s or closed (nothing was written)."""
        ...

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]: ...

    async def message(self, conversation_id: str, seq: int) -> Message | None: ...

    async def said_notices(self, conversation_id: str) -> set[str]:
        """The ids of the notices already said in the conversation: its `system` messages
        whose meta carries a `notice` (handoff/notices/lines.py). Read in the database, so
        a long transcript is not loaded for it on every bot turn."""
        ...

    async def outbox(self, conversation_id: str) -> list[OutboxItem]:
        """The conversation's undelivered outbox items, oldest first."""
        ...

    async def outbox_conversations(self) -> list[str]:
        """Conversations with undelivered outbox items, the longest-waiting first."""
        ...

    async def note_delivery_attempt(self, item: OutboxItem, *, counted: bool) -> OutboxItem:
        """Record a failed delivery: the customer has been told (`notified`), and with
        `counted` one more attempt while every part looked healthy."""
        ...

    async def ping(self) -> None: ...

    async def forget_connections(self) -> None:
        """After a 'server away' error: the next calls open fresh connections rather
        than each meet one more connection the restart broke."""
        ...

    async def refresh_statistics(self) -> None:
        """Let the query planner know how big the tables have grown (the analytics
        report's plans depend on it); cheap, and called at start and every hour."""
        ...

    async def index_search_text(self) -> int:
        """Bring the search index up to date with the messages written since the last
        call; the number of lines added. Called about once a second (web/app.py); a search
        finds a line before it is indexed all the same. SQLite batches (migration 0011 says
        why); PostgreSQL's trigram index is kept by the database: nothing to do."""
        ...

    async def search(self, filters: SearchFilters) -> list[SearchHit]:
        """Agents' conversation search: messages, customer name/email/id and offline
        tickets, by substring in any language, then filtered by days and states; the most
        recently active conversations first, at most `filters.limit`, each with a
        snippet of its newest matching line (handoff/store/search.py says how)."""
        ...

    # -- the email outbox (handoff/email/outbox.py) ---------------------------------------

    async def add_email(
        self, conversation_id: str, recipient: str, subject: str, body: str, message_id: str
    ) -> OutgoingEmail:
        """Keep a ticket reply to mail, due now; its `thread` is the Message-IDs of the
        conversation's earlier mails, oldest first."""
        ...

    async def claim_due_emails(self, now: str, lease_until: str, limit: int) -> list[OutgoingEmail]:
        """Up to `limit` unsent mails due at `now`, oldest first, each with one more attempt
        counted and not due again before `lease_until` (so no other sender takes them
        meanwhile; on PostgreSQL claimed with FOR UPDATE SKIP LOCKED)."""
        ...

    async def retry_email(self, email_id: int, error: str, next_attempt_at: str) -> None:
        """A send that failed and will be tried again at `next_attempt_at`."""
        ...

    async def finish_email(self, email_id: int, error: str | None) -> None:
        """Sent (`error` None) or given up on (`error` says why): either way the recipient's
        address is blanked, so the outbox keeps no contact detail it no longer needs."""
        ...

    async def emails(self, conversation_id: str) -> list[OutgoingEmail]:
        """The conversation's mails, oldest first, sent or not."""
        ...

    async def latest_ticket(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation's newest offline ticket (ticket_dict), if it has one."""
        ...

    async def close(self) -> None: ...


class Handoffs(Protocol):
    """Agents and their sessions, sign-in lockouts, the handoff queue, tickets, ratings,
    private notes."""

    hasher: PasswordHasher

    async def upsert_agent(
        self,
        username: str,
        password: str,
        languages: list[str],
        skills: list[str],
        capacity: int,
        display_name: str = "",
        role: str = "agent",
    ) -> Agent: ...

    async def agent(self, username: str) -> Agent | None: ...

    async def agents(self) -> list[Agent]: ...

    async def set_availability(self, username: str, availability: str) -> Agent | None:
        """Store what the agent set (models.AVAILABILITIES; ValueError for anything else);
        returns the agent as stored now, None for an unknown username. Every replica reads
        it with the agent (`agent`, `agents`, `agent_for_token`)."""
        ...

    async def signed_in_agents(self) -> set[str]:
        """The usernames with at least one session that has not expired (nor been signed
        out): the live view's line between away and offline."""
        ...

    async def login(self, username: str, password: str) -> tuple[Agent, str, float] | None: ...

    async def agent_for_token(self, token: str) -> Agent | None: ...

    async def logout(self, token: str) -> None: ...

    async def login_locked(self, username: str) -> bool: ...

    async def lock_login(self, username: str, failures: int) -> None: ...

    async def unlock_login(self, username: str) -> bool: ...

    async def login_lockouts(self) -> dict[str, str]: ...

    async def enqueue(
        self,
        conversation_id: str,
        reason: str,
        priority: int,
        language: str,
        skill: str | None,
        summary: str,
        context: dict[str, Any],
    ) -> Handoff: ...

    async def handoff(self, handoff_id: int) -> Handoff | None: ...

    async def open_handoff(self, conversation_id: str) -> Handoff | None: ...

    async def latest_handoff(self, conversation_id: str) -> Handoff | None: ...

    async def queued(self) -> list[Handoff]: ...

    async def queue_entries(self) -> list[Handoff]: ...

    async def queue_position(self, handoff: Handoff) -> int: ...

    async def assigned_to(self, username: str) -> list[Handoff]: ...

    async def assigned_counts(self) -> dict[str, int]: ...

    async def assign(self, handoff_id: int, username: str) -> bool: ...

    async def reassign(
        self, handoff_id: int, from_agent: str, to_agent: str, *, only_open: bool = True
    ) -> bool: ...

    async def requeue(self, handoff_id: int, from_agent: str, skill: str | None) -> bool:
        """Put an assigned chat back in the queue for `skill` (an agent's transfer to a
        team): no agent, the new skill, `queued_at` kept (its place among chats queued
        after it stands). False if it was no longer `from_agent`'s assigned chat."""
        ...

    async def assigned(self) -> list[Handoff]: ...

    async def save_context(self, handoff: Handoff) -> None: ...

    async def note_agent_reply(self, handoff_id: int) -> None: ...

    async def resolve_handoff(self, handoff_id: int, agent: str) -> bool: ...

    async def close(self, handoff_id: int, status: str) -> None: ...

    async def recent_handling_seconds(self, limit: int = 20) -> list[float]: ...

    async def create_ticket(
        self, conversation_id: str, language: str, contact: dict[str, str], message: str
    ) -> int: ...

    async def tickets(self, view: str = "all", agent: str = "") -> list[dict[str, Any]]:
        """The newest 200 tickets (ticket_dict) of a view (TICKET_VIEWS): `open`, `mine`
        (claimed or answered by `agent`), or `all`."""
        ...

    async def ticket(self, ticket_id: int) -> dict[str, Any] | None: ...

    async def change_ticket(
        self, ticket_id: int, transition: str, agent: str, resolution: str | None = None
    ) -> dict[str, Any]:
        """Claim, release or close a ticket (state_machine.ticket_target says who may, from
        which state) and write its event (`ticket_<transition>`) in the same transaction;
        of concurrent claims exactly one wins. Returns the ticket as it is now. KeyError:
        no such ticket; TicketRefused: not allowed now (nothing was written)."""
        ...

    async def add_rating(
        self, conversation_id: str, rating: int, handoff: Handoff | None
    ) -> None: ...

    async def ratings(self, conversation_id: str) -> list[int]: ...

    async def add_note(self, conversation_id: str, author: str, text: str) -> Note:
        """Store an agent's private note on a conversation, card numbers and national ids
        masked (common.pii.mask_secrets, as agent messages), in one statement: the row is
        the note's record. KeyError: no such conversation."""
        ...

    async def notes(self, conversation_id: str) -> list[Note]:
        """The conversation's notes in the order they were added (oldest first)."""
        ...

    async def set_labels(
        self, conversation_id: str, labels: list[str], by: str
    ) -> tuple[list[str], list[str]]:
        """Replace the conversation's labels with `labels` (ids from data/labels.yml, which
        the caller checked), `by` an agent's username; returns (added, removed), each
        sorted. A change is also an event named 'labels' in the conversation's history
        (`Store.events`; data: added, removed, by; the state stays), written with it; no
        change, no event. KeyError: no such conversation."""
        ...

    async def labels(self, conversation_id: str) -> list[str]:
        """The conversation's labels, sorted."""
        ...

    async def labels_of(self, conversation_ids: list[str]) -> dict[str, list[str]]:
        """The labels of each of the conversations that has any (sorted): the queue's and
        an agent's list of chats in one read."""
        ...

    async def add_notice(self, notice: Notice) -> Notice:
        """Keep a supervisor's notice (handoff/notices/) for every gateway replica; returns
        it as stored (with created_at). ValueError for a severity not in
        notices.model.SEVERITIES. The caller made its id (unique) and checked the rest."""
        ...

    async def notices(self, after: str) -> list[Notice]:
        """Supervisors' notices not ended by `after` (an instant, notices.model.instant):
        active and scheduled ones, by start then id."""
        ...

    async def end_notice(self, notice_id: str, by: str, at: str) -> Notice | None:
        """End the notice at `at` unless it ended earlier already (then it stays as it
        was); returns it as stored now. None: no such notice."""
        ...
