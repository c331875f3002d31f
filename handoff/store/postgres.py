"""The gateway's store on PostgreSQL (asyncpg), for gateways on several machines sharing
one database: the same methods and semantics as SQLiteStore (sqlite.py) and HandoffStore
(sqlite_handoffs.py), returning the same dataclasses.

Two classes on one connection pool, as the SQLite pair shares one connection:
`PostgresStore` (conversations, messages, transition events, the bot outbox, bot events)
and `PostgresHandoffStore` (agents, sessions, login lockouts, the queue, tickets, ratings,
agents' private notes).

SQLiteStore is safe because it is the only process and holds a lock per conversation in
memory; here several gateways write at once, so the database decides:
- a transition is `UPDATE ... WHERE state = <from>` in the transaction that writes its
  event: PostgreSQL re-checks the condition once a competing writer's row lock is gone,
  so of two transitions from one state exactly one happens, on whichever gateway;
- a message write locks its conversation's row first (`SELECT ... FOR NO KEY UPDATE`),
  so the next seq, the resend check and the outbox decision see every earlier writer of
  that conversation; writers of other conversations are not held up (a message for an
  unknown conversation is a KeyError here, where SQLite, without foreign-key checks,
  would store it);
- assigning a queued chat is `UPDATE ... WHERE status = 'queued'` (the same re-check):
  one agent gets it, however many try at once from however many gateways.

The schema is handoff/store/migrations/postgres/ (applied by `open`), the SQLite one column for
column, so agent/analytics.py's portable SQL runs unchanged through `postgres_fetch`.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from handoff.agent.passwords import PasswordHasher
from handoff.attachments.model import Attachment, attachment_from_row
from handoff.conversation.bot_events import ANSWERS, REJECTIONS, bot_events
from handoff.conversation.models import (
    AVAILABILITIES,
    ROLES,
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
    agent_from_row,
    handoff_from_row,
    message_columns,
    message_from_row,
)
from handoff.conversation.state_machine import (
    HUMAN_STATES,
    InvalidTransition,
    TransitionEvent,
    target,
    ticket_event_name,
    ticket_target,
)
from handoff.email.model import OutgoingEmail
from handoff.notices.model import SEVERITIES, Notice, notice_from_row
from handoff.store import postgres_email, postgres_search
from handoff.store.interface import (
    ARTICLE_VERDICTS,
    SESSION_SECONDS,
    hash_token,
    label_change,
    label_event,
    note_text,
    ticket_dict,
    ticket_event,
    ticket_view_filter,
    utc_now,
)
from handoff.store.migrations import migrate, postgres_database
from handoff.store.search import SearchFilters, SearchHit
from stack.shared_stores import parse_database_url

_CONVERSATION_COLUMNS = "id, language, state, customer_json, created_at, updated_at"
# A ":name" parameter of agent/analytics.py's SQL (not the "::" of a PostgreSQL cast).
_NAMED_PARAMETER = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


def _count(status: str) -> int:
    """Rows a command touched, from its status tag ("DELETE 1", "UPDATE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _StoreConnection(asyncpg.Connection):  # type: ignore[misc]
    """The store's pooled connection. The store keeps no session state on it (no SET,
    LISTEN, advisory lock, or cursor outside a transaction), so a connection going back
    to the pool needs no reset query: asyncpg's default one (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL) is one more round trip per pooled call, 13 % of a replica's
    event loop in bench/handoff.py's relay. An open transaction is still rolled back."""

    def get_reset_query(self) -> str:
        return ""


class PostgresStore:
    """Conversations and their messages; one pool, shared with PostgresHandoffStore."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @property
    def pool(self) -> asyncpg.Pool:
        """Shared with the handoff store (the SQLite pair shares its connection)."""
        return self._pool

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
    ) -> PostgresStore:
        """Connect to `url` (postgresql://user:password@host:port/database) and bring the
        schema up to date (handoff/store/migrations). `schema` puts the tables in that (existing)
        schema instead of the user's default one. Errors never hold the password (the
        migrations' are MigrationError, the pool's asyncpg's); the URL is not logged."""
        server = parse_database_url(url)
        if server is None:
            raise ValueError("PostgresStore needs a postgresql:// URL")
        # yoyo, on a psycopg connection of its own in a thread, before the pool exists:
        # a gateway that cannot bring the schema up to date stops here, with a
        # MigrationError that says why (and holds no password).
        await migrate(postgres_database(server, schema))
        settings = {"application_name": "assistant-gateway"}
        if schema:
            settings["search_path"] = schema
        ssl_mode = server.options.get("sslmode")
        pool = await asyncpg.create_pool(
            host=server.host,
            port=server.port,
            user=server.user,
            password=server.password or None,
            database=server.database,
            ssl=ssl_mode or None,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            server_settings=settings,
            connection_class=_StoreConnection,
        )
        await postgres_search.letters_are_indexed(pool)
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    async def search(self, filters: SearchFilters) -> list[SearchHit]:
        return await postgres_search.search(self._pool, filters)

    # The email outbox: the SQL is in postgres_email.py.
    async def add_email(
        self, conversation_id: str, recipient: str, subject: str, body: str, message_id: str
    ) -> OutgoingEmail:
        return await postgres_email.add_email(
            self._pool, conversation_id, recipient, subject, body, message_id
        )

    async def claim_due_emails(self, now: str, lease_until: str, limit: int) -> list[OutgoingEmail]:
        return await postgres_email.claim_due(self._pool, now, lease_until, limit)

    async def retry_email(self, email_id: int, error: str, next_attempt_at: str) -> None:
        await postgres_email.retry_later(self._pool, email_id, error, next_attempt_at)

    async def finish_email(self, email_id: int, error: str | None) -> None:
        await postgres_email.finish(self._pool, email_id, error)

    async def emails(self, conversation_id: str) -> list[OutgoingEmail]:
        return await postgres_email.emails(self._pool, conversation_id)

    async def latest_ticket(self, conversation_id: str) -> dict[str, Any] | None:
        return await postgres_email.latest_ticket(self._pool, conversation_id)

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    async def forget_connections(self) -> None:
        """PostgreSQL restarted: every idle connection of the pool is broken and would
        fail its next caller once. Expired, they are replaced as they are next taken."""
        await self._pool.expire_connections()

    async def refresh_statistics(self) -> None:
        """PostgreSQL's autovacuum analyzes tables as they grow."""

    async def index_search_text(self) -> int:
        """messages_text_trgm is kept in each message's own transaction (GIN's pending
        list makes that cheap): nothing waits to be indexed."""
        return 0

    # -- conversations ------------------------------------------------------------------

    async def create_conversation(
        self, language: str, customer: dict[str, Any]
    ) -> tuple[Conversation, str]:
        token = secrets.token_urlsafe(32)
        now = utc_now()
        conversation = Conversation(str(uuid.uuid4()), language, "bot", customer, now, now)
        await self._pool.execute(
            "INSERT INTO conversations (id, token_hash, language, state, customer_json,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            conversation.id,
            hash_token(token),
            language,
            conversation.state,
            json.dumps(customer, ensure_ascii=False),
            now,
            now,
        )
        return conversation, token

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        row = await self._pool.fetchrow(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", conversation_id
        )
        return _conversation(row) if row else None

    async def check_token(self, conversation_id: str, token: str) -> bool:
        stored = await self._pool.fetchval(
            "SELECT token_hash FROM conversations WHERE id = $1", conversation_id
        )
        # Compare even when the conversation is unknown, so timing does not tell which
        # ids exist.
        expected = stored if stored is not None else hash_token(secrets.token_hex(16))
        return hmac.compare_digest(expected, hash_token(token)) and stored is not None

    async def set_language(self, conversation_id: str, language: str) -> None:
        await self._pool.execute(
            "UPDATE conversations SET language = $1, updated_at = $2 WHERE id = $3",
            language,
            utc_now(),
            conversation_id,
        )

    async def transition(
        self, conversation_id: str, name: str, data: dict[str, Any] | None = None
    ) -> TransitionEvent:
        """Apply a named transition (conversation/state_machine.py) and record its event, atomically."""
        async with self._pool.acquire() as connection, connection.transaction():
            current = await connection.fetchval(
                "SELECT state FROM conversations WHERE id = $1", conversation_id
            )
            if current is None:
                raise KeyError(conversation_id)
            to_state = target(name, current)
            now = utc_now()
            moved = await connection.fetchval(
                "UPDATE conversations SET state = $1, updated_at = $2"
                " WHERE id = $3 AND state = $4 RETURNING 1",
                to_state,
                now,
                conversation_id,
                current,
            )
            if moved is None:  # another writer moved it first; the rollback undoes nothing
                now_state = await connection.fetchval(
                    "SELECT state FROM conversations WHERE id = $1", conversation_id
                )
                raise InvalidTransition(name, now_state or "gone")
            event = TransitionEvent(conversation_id, name, current, to_state, data or {}, now)
            await connection.execute(
                "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                conversation_id,
                name,
                current,
                to_state,
                json.dumps(event.data),
                now,
            )
            if to_state in HUMAN_STATES:
                # People own the chat now: messages the bot never answered are theirs.
                await connection.execute(
                    "DELETE FROM bot_outbox WHERE conversation_id = $1 AND kind = 'message'",
                    conversation_id,
                )
            elif to_state == "bot":
                # Rasa paused itself when it handed over: it must be told to go on.
                await connection.execute(
                    "INSERT INTO bot_outbox (conversation_id, kind, ask_rating, created_at)"
                    " VALUES ($1, 'resume', $2, $3)",
                    conversation_id,
                    int(bool(event.data.get("ask_rating"))),
                    now,
                )
        return event

    async def events(self, conversation_id: str) -> list[TransitionEvent]:
        rows = await self._pool.fetch(
            "SELECT conversation_id, name, from_state, to_state, data_json, ts FROM events"
            " WHERE conversation_id = $1 ORDER BY id",
            conversation_id,
        )
        return [
            TransitionEvent(
                r["conversation_id"],
                r["name"],
                r["from_state"],
                r["to_state"],
                json.loads(r["data_json"]),
                r["ts"],
            )
            for r in rows
        ]

    async def conversations_of_customer(
        self, customer: dict[str, Any], exclude: str
    ) -> list[Conversation]:
        """Earlier conversations of the same customer: only for an identity the host site
        signed (handoff/customer/identity.py), and only other verified conversations with the same
        customer id. Anyone can type anyone's email, so self-typed fields link nothing."""
        if customer.get("verified") is not True or not customer.get("id"):
            return []
        # Spelt as the partial index conversations_verified_customer, which serves it.
        rows = await self._pool.fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE ((customer_json::jsonb) -> 'verified') IN ('true'::jsonb, '1'::jsonb)"
            " AND ((customer_json::jsonb) ->> 'id') = $1 AND id <> $2"
            " ORDER BY created_at DESC LIMIT 10",
            str(customer["id"]),
            exclude,
        )
        return [_conversation(row) for row in rows]

    # -- messages -------------------------------------------------------------------------

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
        message = Message(
            conversation_id=conversation_id,
            seq=0,  # chosen by _insert
            role=role,
            text=text,
            ts=utc_now(),
            payload=payload,
            client_id=client_id,
            buttons=buttons or [],
            links=links or [],
            meta=meta or {},
        )
        async with self._pool.acquire() as connection:
            stored, _ = await _insert(connection, message)
            if stored is None:
                return await _stored_before(connection, message), False
        return stored, True

    async def add_agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        *,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, int] | None:
        message = Message(conversation_id, 0, "agent", text, utc_now(), meta=meta or {})
        row = await self._pool.fetchrow(_INSERT_AGENT_MESSAGE, *_insert_arguments(message), agent)
        if row is None:
            return None
        return dataclasses.replace(message, seq=int(row["seq"])), int(row["handoff_id"])

    async def add_agent_message_as(self, token: str, conversation_id: str, text: str) -> AgentWrite:
        message = Message(conversation_id, 0, "agent", text, utc_now())
        row = await self._pool.fetchrow(
            _INSERT_SESSION_AGENT_MESSAGE,
            *_insert_arguments(message),
            hash_token(token),
            time.time(),
        )
        if row is None:
            return AgentWrite(None)
        if row["seq"] is None:
            return AgentWrite(agent_from_row(row))
        stored = dataclasses.replace(message, seq=int(row["seq"]))
        return AgentWrite(agent_from_row(row), (stored, int(row["handoff_id"])))

    # -- attachments (handoff/attachments/) ------------------------------------------------

    async def add_attachment(self, attachment: Attachment, data: bytes) -> Attachment:
        stored = dataclasses.replace(attachment, created_at=utc_now())
        # One statement (its own transaction): no row for an unknown conversation.
        status = await self._pool.execute(
            "INSERT INTO attachments (id, conversation_id, uploader_role, uploader, name,"
            " content_type, size, sha256, created_at, data)"
            " SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10 FROM conversations WHERE id = $2",
            stored.id,
            stored.conversation_id,
            stored.uploader_role,
            stored.uploader,
            stored.name,
            stored.content_type,
            stored.size,
            stored.sha256,
            stored.created_at,
            data,
        )
        if status != "INSERT 0 1":
            raise KeyError(attachment.conversation_id)
        return stored

    async def attachment(
        self, conversation_id: str, attachment_id: str
    ) -> tuple[Attachment, bytes] | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM attachments WHERE id = $1 AND conversation_id = $2",
            attachment_id,
            conversation_id,
        )
        if row is None:
            return None
        return attachment_from_row(row), bytes(row["data"])

    async def add_customer_message(
        self, conversation_id: str, text: str, *, payload: str | None, client_id: str | None
    ) -> StoredCustomerMessage:
        """Store a customer message; while the bot owns the conversation, also its outbox
        item, in the same statement (see interface.Store)."""
        message = Message(
            conversation_id=conversation_id,
            seq=0,  # chosen by _insert
            role="customer",
            text=text,
            ts=utc_now(),
            payload=payload,
            client_id=client_id,
        )
        async with self._pool.acquire() as connection:
            # One statement under the row's lock: a transition to people cannot slip in
            # between reading the state and writing the outbox item.
            row = await _insert_row(connection, message, for_the_bot=True)
            if row is None:
                return StoredCustomerMessage(await _stored_before(connection, message), False, None)
        stored = dataclasses.replace(message, seq=int(row["seq"]))
        item = None
        if row["outbox_id"] is not None:
            item = OutboxItem(
                int(row["outbox_id"]), conversation_id, "message", stored.seq, False, 0, False
            )
        return StoredCustomerMessage(
            stored, True, item, row["state"], row["language"], row["agent"]
        )

    async def add_replies(
        self, conversation_id: str, replies: list[Reply], *, completes: OutboxItem | None = None
    ) -> list[Message]:
        """Store a turn's bot replies in one transaction, in order, with the bot events
        they carry (conversation/bot_events.py); with `completes`, that outbox item is deleted in the
        same transaction."""
        if not replies and completes is None:
            return []
        ts = utc_now()
        async with self._pool.acquire() as connection, connection.transaction():
            if not replies:
                # Each reply's insert locks the row itself (held to the commit); an outbox
                # item completed with no reply still waits for the writers before it.
                await _lock_conversation(connection, conversation_id)
            stored = [
                await _insert_reply(
                    connection,
                    Message(
                        conversation_id=conversation_id,
                        seq=0,
                        role=reply.role,
                        text=reply.text,
                        ts=ts,
                        buttons=reply.buttons,
                        links=reply.links,
                        meta=reply.meta,
                    ),
                )
                for reply in replies
            ]
            await _record_bot_events(connection, stored)
            if completes is not None:
                await connection.execute("DELETE FROM bot_outbox WHERE id = $1", completes.id)
        return stored

    async def add_ticket_reply(
        self, ticket_id: int, agent: str, replies: list[Reply]
    ) -> tuple[dict[str, Any], list[Message]]:
        async with self._pool.acquire() as connection, connection.transaction():
            # The ticket's row first, then (each insert) the conversation's: nobody takes
            # them the other way round.
            before = await _locked_ticket(connection, ticket_id)
            to_state = ticket_target("reply", before["state"], before["claimed_by"], agent)
            now = utc_now()
            await connection.execute(
                "UPDATE tickets SET status = $2, answered_at = $3 WHERE id = $1",
                ticket_id,
                to_state,
                now,
            )
            conversation_id = before["conversation_id"]
            stored = [
                await _insert_reply(
                    connection, Message(conversation_id, 0, reply.role, reply.text, now)
                )
                for reply in replies
            ]
            await connection.execute(
                _TICKET_EVENT,
                ticket_id,
                ticket_event_name("reply"),
                ticket_event(ticket_id, "reply", before["state"], to_state, agent),
                now,
            )
            return await _locked_ticket(connection, ticket_id), stored

    async def add_article_feedback(
        self, key: str, article_id: str, kind: str, language: str
    ) -> bool:
        if kind not in ARTICLE_VERDICTS:
            raise ValueError(f"an article verdict is one of {ARTICLE_VERDICTS}, not {kind!r}")
        now = utc_now()
        status = await self._pool.execute(
            "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts, day,"
            " started_at) SELECT $1, 0, $2, $3, $4, $5, $6, $5 WHERE NOT EXISTS"
            " (SELECT 1 FROM bot_events WHERE conversation_id = $1) ON CONFLICT DO NOTHING",
            key,
            kind,
            article_id,
            language,
            now,
            now[:10],
        )
        return bool(status == "INSERT 0 1")

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        rows = await self._pool.fetch(
            "SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq",
            conversation_id,
            after_seq,
        )
        return [message_from_row(row) for row in rows]

    async def message(self, conversation_id: str, seq: int) -> Message | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM messages WHERE conversation_id = $1 AND seq = $2",
            conversation_id,
            seq,
        )
        return message_from_row(row) if row else None

    async def said_notices(self, conversation_id: str) -> set[str]:
        # Only a system line that can be a notice is cast to jsonb: another message's meta
        # may hold what jsonb refuses (\u0000). The CASE orders the tests, as PostgreSQL
        # may evaluate a WHERE's conditions in any order.
        rows = await self._pool.fetch(
            "SELECT DISTINCT notice ->> 'id' AS id FROM ("
            " SELECT CASE WHEN role = 'system' AND strpos(meta_json, '\"notice\"') > 0"
            " THEN (meta_json::jsonb) -> 'notice' END AS notice"
            " FROM messages WHERE conversation_id = $1 AND role = 'system') AS lines"
            " WHERE jsonb_typeof(notice) = 'object'",
            conversation_id,
        )
        return {str(row["id"]) for row in rows if row["id"] is not None}

    # -- the bot outbox ---------------------------------------------------------------------

    async def outbox(self, conversation_id: str) -> list[OutboxItem]:
        """The conversation's undelivered outbox items, oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM bot_outbox WHERE conversation_id = $1 ORDER BY id", conversation_id
        )
        return [_outbox_item(row) for row in rows]

    async def outbox_conversations(self) -> list[str]:
        """Conversations with undelivered outbox items, the longest-waiting first."""
        rows = await self._pool.fetch(
            "SELECT conversation_id FROM bot_outbox GROUP BY conversation_id ORDER BY MIN(id)"
        )
        return [str(row["conversation_id"]) for row in rows]

    async def note_delivery_attempt(self, item: OutboxItem, *, counted: bool) -> OutboxItem:
        """Record a failed delivery: the customer has been told (`notified`), and with
        `counted` one more attempt while every part looked healthy."""
        updated = dataclasses.replace(item, attempts=item.attempts + int(counted), notified=True)
        await self._pool.execute(
            "UPDATE bot_outbox SET attempts = $1, notified = 1 WHERE id = $2",
            updated.attempts,
            item.id,
        )
        return updated


# A ticket's event, with the state its conversation is in (unchanged).
_TICKET_EVENT = (
    "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
    " SELECT t.conversation_id, $2, COALESCE(c.state, ''), COALESCE(c.state, ''), $3, $4"
    " FROM tickets t LEFT JOIN conversations c ON c.id = t.conversation_id WHERE t.id = $1"
)


async def _locked_ticket(connection: asyncpg.Connection, ticket_id: int) -> dict[str, Any]:
    """The ticket, its row locked until the transaction ends; KeyError: no such ticket."""
    row = await connection.fetchrow("SELECT * FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
    if row is None:
        raise KeyError(ticket_id)
    return ticket_dict(row)


async def _lock_conversation(connection: asyncpg.Connection, conversation_id: str) -> str:
    """Hold the conversation's row until the transaction ends; returns its state. Every
    writer of a conversation's messages takes this lock first, so they go one at a time."""
    state = await connection.fetchval(
        "SELECT state FROM conversations WHERE id = $1 FOR NO KEY UPDATE", conversation_id
    )
    if state is None:
        raise KeyError(conversation_id)
    return str(state)


# One statement, one round trip, no transaction of its own. It locks the conversation's
# row (held until the statement ends; a concurrent writer waits, then reads the committed
# row, so its count is current) and reads its message count (last_seq; GREATEST also
# covers rows written without the count); inserts the message with the next seq unless
# its client_id is stored already (a resend, also one racing the original: the unique
# index sees committed rows, so nothing is stored and nothing counted); records the new
# count and marks the conversation updated (and used, for analytics, by a customer
# message); and with $10, while the bot owns the conversation, inserts the outbox item
# that hands the message to the bot.
_NUMBERED_INSERT = """
new AS (
    INSERT INTO messages (conversation_id, seq, role, text, payload, client_id,
                          buttons_json, links_json, meta_json, ts)
    SELECT $1, GREATEST(
               last_seq,
               (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = $1)
           ) + 1,
           $2, $3, $4, $5, $6, $7, $8, $9
    FROM locked
    ON CONFLICT (conversation_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING seq
), counted AS (
    UPDATE conversations
    SET last_seq = new.seq, updated_at = $9,
        engaged = CASE WHEN $2 = 'customer' THEN 1 ELSE engaged END
    FROM new WHERE id = $1
)"""
_INSERT_MESSAGE = f"""
WITH locked AS (
    SELECT last_seq, state, language FROM conversations WHERE id = $1 FOR NO KEY UPDATE
), {_NUMBERED_INSERT}, queued AS (
    INSERT INTO bot_outbox (conversation_id, kind, seq, created_at)
    SELECT $1, 'message', new.seq, $9 FROM new, locked WHERE $10 AND locked.state = 'bot'
    RETURNING id
)
SELECT new.seq, (SELECT id FROM queued) AS outbox_id, locked.state, locked.language,
       CASE WHEN $10 AND locked.state = 'assigned' THEN (
           SELECT agent FROM handoffs WHERE conversation_id = $1 AND status = 'assigned'
           ORDER BY id DESC LIMIT 1
       ) END AS agent
FROM new, locked
"""
# The same for an agent's message ($10: the agent), stored only while the conversation's
# open handoff is assigned to that agent: the check and the write are one statement.
_INSERT_AGENT_MESSAGE = f"""
WITH locked AS (
    SELECT c.last_seq, h.id AS handoff_id
    FROM conversations c, LATERAL (
        SELECT id FROM handoffs
        WHERE conversation_id = $1 AND status = 'assigned' AND agent = $10
        ORDER BY id DESC LIMIT 1
    ) h
    WHERE c.id = $1
    FOR NO KEY UPDATE OF c
), {_NUMBERED_INSERT}
SELECT new.seq, locked.handoff_id FROM new, locked
"""
# The same for whoever holds an unexpired session ($10: its token's hash, $11: now): no
# row for no such session; the agent's row, with seq NULL when the chat is not theirs.
_INSERT_SESSION_AGENT_MESSAGE = f"""
WITH me AS (
    SELECT a.* FROM agent_sessions s JOIN agents a ON a.username = s.username
    WHERE s.token_hash = $10 AND s.expires_at > $11
), locked AS (
    SELECT c.last_seq, h.id AS handoff_id
    FROM conversations c, me, LATERAL (
        SELECT id FROM handoffs
        WHERE conversation_id = $1 AND status = 'assigned' AND agent = me.username
        ORDER BY id DESC LIMIT 1
    ) h
    WHERE c.id = $1
    FOR NO KEY UPDATE OF c
), {_NUMBERED_INSERT}
SELECT me.*, new.seq, locked.handoff_id
FROM me LEFT JOIN (new CROSS JOIN locked) ON TRUE
"""


async def _insert(
    connection: asyncpg.Connection, message: Message, *, for_the_bot: bool = False
) -> tuple[Message | None, int | None]:
    """Store `message` with the next seq; returns it (None: its client_id was stored
    already, or there is no such conversation) and, `for_the_bot` while the bot owns the
    conversation, the id of its outbox item."""
    row = await _insert_row(connection, message, for_the_bot=for_the_bot)
    if row is None:
        return None, None
    outbox_id = row["outbox_id"]
    stored = dataclasses.replace(message, seq=int(row["seq"]))
    return stored, int(outbox_id) if outbox_id is not None else None


async def _insert_row(
    connection: asyncpg.Connection, message: Message, *, for_the_bot: bool
) -> asyncpg.Record | None:
    """_INSERT_MESSAGE's row: seq, outbox_id, and the conversation's state, language and
    (`for_the_bot`, while assigned) agent as the message found them."""
    return await connection.fetchrow(_INSERT_MESSAGE, *_insert_arguments(message), for_the_bot)


def _insert_arguments(message: Message) -> list[object]:
    """$1..$9 of the inserts (_NUMBERED_INSERT): the message's columns but `seq`, which
    the statement numbers itself."""
    return [value for name, value in message_columns(message).items() if name != "seq"]


async def _insert_reply(connection: asyncpg.Connection, message: Message) -> Message:
    """A bot or system reply (no client_id: never a resend)."""
    stored, _ = await _insert(connection, message)
    if stored is None:
        raise KeyError(message.conversation_id)
    return stored


async def _stored_before(connection: asyncpg.Connection, message: Message) -> Message:
    """What `_insert` met instead of storing `message`: the message stored before with
    its client_id, or (KeyError) no such conversation."""
    if message.client_id is not None:
        row = await connection.fetchrow(
            "SELECT * FROM messages WHERE conversation_id = $1 AND client_id = $2",
            message.conversation_id,
            message.client_id,
        )
        if row is not None:
            return message_from_row(row)
    raise KeyError(message.conversation_id)


async def _record_bot_events(connection: asyncpg.Connection, messages: list[Message]) -> None:
    """bot_events.record_bot_events on PostgreSQL: the facts of stored bot replies, and
    on the conversation whether an answer was shown or rejected; in the caller's
    transaction."""
    facts = [
        (m.conversation_id, m.seq, kind, article, m.ts)
        for m in messages
        if m.role == "bot"
        for kind, article in bot_events(m.meta)
    ]
    if not facts:
        return
    await connection.executemany(
        "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts, day,"
        " started_at) SELECT $1, $2, $3, $4, language, $5, SUBSTR(created_at, 1, 10),"
        " created_at FROM conversations WHERE id = $1 ON CONFLICT DO NOTHING",
        facts,
    )
    for conversation_id, _, kind, article, _ in facts:
        if kind in ANSWERS and article is not None:
            await connection.execute(
                "UPDATE conversations SET kb_answered = 1 WHERE id = $1 AND kb_answered = 0",
                conversation_id,
            )
        elif kind in REJECTIONS:
            await connection.execute(
                "UPDATE conversations SET kb_rejected = 1 WHERE id = $1 AND kb_rejected = 0",
                conversation_id,
            )


def _conversation(row: asyncpg.Record) -> Conversation:
    return Conversation(
        id=row["id"],
        language=row["language"],
        state=row["state"],
        customer=json.loads(row["customer_json"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _outbox_item(row: asyncpg.Record) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        kind=row["kind"],
        seq=row["seq"],
        ask_rating=bool(row["ask_rating"]),
        attempts=row["attempts"],
        notified=bool(row["notified"]),
    )


# -- agents, the queue, tickets, ratings ------------------------------------------------------


def _note(row: asyncpg.Record) -> Note:
    return Note(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        author=row["author"],
        text=row["text"],
        created_at=row["created_at"],
    )


class PostgresHandoffStore:
    """HandoffStore (sqlite_handoffs.py) on PostgreSQL, on the PostgresStore's pool."""

    def __init__(self, pool: asyncpg.Pool, hasher: PasswordHasher | None = None) -> None:
        self._pool = pool
        # Password hashes run off the event loop (handoff/agent/passwords.py).
        self.hasher = hasher or PasswordHasher()

    # -- agents ------------------------------------------------------------------------

    async def upsert_agent(
        self,
        username: str,
        password: str,
        languages: list[str],
        skills: list[str],
        capacity: int,
        display_name: str = "",
        role: str = "agent",
    ) -> Agent:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        row = await self._pool.fetchrow(
            "INSERT INTO agents (username, display_name, password_hash, languages_json,"
            " skills_json, capacity, created_at, role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (username) DO UPDATE SET"
            " display_name = excluded.display_name, password_hash = excluded.password_hash,"
            " languages_json = excluded.languages_json, skills_json = excluded.skills_json,"
            " capacity = excluded.capacity, role = excluded.role RETURNING *",
            username,
            display_name or username,
            await self.hasher.hash(password),
            json.dumps(languages),
            json.dumps(skills),
            capacity,
            utc_now(),
            role,
        )
        return agent_from_row(row)

    async def agent(self, username: str) -> Agent | None:
        row = await self._pool.fetchrow("SELECT * FROM agents WHERE username = $1", username)
        return agent_from_row(row) if row else None

    async def agents(self) -> list[Agent]:
        return [
            agent_from_row(row)
            for row in await self._pool.fetch("SELECT * FROM agents ORDER BY username")
        ]

    async def set_availability(self, username: str, availability: str) -> Agent | None:
        if availability not in AVAILABILITIES:
            raise ValueError(f"availability must be one of {', '.join(AVAILABILITIES)}")
        row = await self._pool.fetchrow(
            "UPDATE agents SET availability = $2 WHERE username = $1 RETURNING *",
            username,
            availability,
        )
        return agent_from_row(row) if row else None

    async def signed_in_agents(self) -> set[str]:
        rows = await self._pool.fetch(
            "SELECT DISTINCT username FROM agent_sessions WHERE expires_at > $1", time.time()
        )
        return {row["username"] for row in rows}

    async def login(self, username: str, password: str) -> tuple[Agent, str, float] | None:
        row = await self._pool.fetchrow("SELECT * FROM agents WHERE username = $1", username)
        # Unknown users are verified against the hasher's dummy hash: one scrypt either
        # way, so timing does not reveal which usernames exist. Raises HashingBusy.
        if not await self.hasher.verify(password, row["password_hash"] if row else None):
            return None
        assert row is not None
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + SESSION_SECONDS
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO agent_sessions (token_hash, username, expires_at) VALUES ($1, $2, $3)",
                hash_token(token),
                username,
                expires_at,
            )
            await connection.execute(
                "DELETE FROM agent_sessions WHERE expires_at < $1", time.time()
            )
        return agent_from_row(row), token, expires_at

    async def agent_for_token(self, token: str) -> Agent | None:
        row = await self._pool.fetchrow(
            "SELECT a.* FROM agent_sessions s JOIN agents a ON a.username = s.username"
            " WHERE s.token_hash = $1 AND s.expires_at > $2",
            hash_token(token),
            time.time(),
        )
        return agent_from_row(row) if row else None

    async def logout(self, token: str) -> None:
        await self._pool.execute(
            "DELETE FROM agent_sessions WHERE token_hash = $1", hash_token(token)
        )

    # -- sign-in lockouts (agent/login_guard.py) ------------------------------------------------

    async def login_locked(self, username: str) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM login_lockouts WHERE username = $1", username
        )
        return found is not None

    async def lock_login(self, username: str, failures: int) -> None:
        await self._pool.execute(
            "INSERT INTO login_lockouts (username, failures, locked_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (username) DO UPDATE SET failures = excluded.failures",
            username,
            failures,
            utc_now(),
        )

    async def unlock_login(self, username: str) -> bool:
        """Lift a lock; False when the username was not locked."""
        status = await self._pool.execute(
            "DELETE FROM login_lockouts WHERE username = $1", username
        )
        return _count(status) > 0

    async def login_lockouts(self) -> dict[str, str]:
        """Locked usernames (known or not) and when each was locked."""
        rows = await self._pool.fetch(
            "SELECT username, locked_at FROM login_lockouts ORDER BY username"
        )
        return {row["username"]: row["locked_at"] for row in rows}

    # -- the queue --------------------------------------------------------------------------

    async def enqueue(
        self,
        conversation_id: str,
        reason: str,
        priority: int,
        language: str,
        skill: str | None,
        summary: str,
        context: dict[str, Any],
    ) -> Handoff:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "INSERT INTO handoffs (conversation_id, status, reason, priority, language,"
                " skill, summary, context_json, queued_at, day, started_at)"
                " VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8,"
                " (SELECT SUBSTR(created_at, 1, 10) FROM conversations WHERE id = $1),"
                " (SELECT created_at FROM conversations WHERE id = $1))"
                " RETURNING *",
                conversation_id,
                reason,
                priority,
                language,
                skill,
                summary,
                json.dumps(context, ensure_ascii=False),
                time.time(),
            )
            await _note_last_handoff(connection, row["id"])
        return handoff_from_row(row)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        row = await self._pool.fetchrow("SELECT * FROM handoffs WHERE id = $1", handoff_id)
        return handoff_from_row(row) if row else None

    async def open_handoff(self, conversation_id: str) -> Handoff | None:
        """The conversation's handoff that is still queued or assigned, if any."""
        row = await self._pool.fetchrow(
            "SELECT * FROM handoffs WHERE conversation_id = $1"
            " AND status IN ('queued', 'assigned') ORDER BY id DESC LIMIT 1",
            conversation_id,
        )
        return handoff_from_row(row) if row else None

    async def latest_handoff(self, conversation_id: str) -> Handoff | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM handoffs WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1",
            conversation_id,
        )
        return handoff_from_row(row) if row else None

    async def queued(self) -> list[Handoff]:
        """Waiting handoffs in service order: priority first, then first come."""
        rows = await self._pool.fetch(
            "SELECT * FROM handoffs WHERE status = 'queued' ORDER BY priority DESC, queued_at, id"
        )
        return [handoff_from_row(row) for row in rows]

    async def queue_entries(self) -> list[Handoff]:
        """The queue in service order without each chat's stored context (its transcript);
        `context` only keeps the `offline` flag. What queue frames and positions need."""
        rows = await self._pool.fetch(
            "SELECT id, conversation_id, status, reason, priority, language, skill, agent,"
            " summary, (context_json::json -> 'offline')::text AS offline, queued_at,"
            " assigned_at, closed_at FROM handoffs WHERE status = 'queued'"
            " ORDER BY priority DESC, queued_at, id"
        )
        # Truthy as SQLite's json_extract value is: true, a non-zero number, a non-empty
        # string.
        return [
            handoff_from_row(
                row,
                context={"offline": True}
                if row["offline"] is not None and json.loads(row["offline"])
                else {},
            )
            for row in rows
        ]

    async def queue_position(self, handoff: Handoff) -> int:
        """1-based place of `handoff` among queued chats of its language and skill
        (priority, then first come: the order of `queued`); one indexed count."""
        count = await self._pool.fetchval(
            "SELECT COUNT(*) FROM handoffs WHERE status = 'queued' AND language = $1"
            " AND skill IS NOT DISTINCT FROM $2 AND (priority > $3 OR (priority = $3"
            " AND (queued_at < $4 OR (queued_at = $4 AND id <= $5))))",
            handoff.language,
            handoff.skill,
            handoff.priority,
            handoff.queued_at,
            handoff.id,
        )
        return max(1, int(count or 0))

    async def assigned_to(self, username: str) -> list[Handoff]:
        rows = await self._pool.fetch(
            "SELECT * FROM handoffs WHERE status = 'assigned' AND agent = $1 ORDER BY assigned_at",
            username,
        )
        return [handoff_from_row(row) for row in rows]

    async def assigned_counts(self) -> dict[str, int]:
        """How many chats each agent has open."""
        rows = await self._pool.fetch(
            "SELECT agent, COUNT(*) AS open FROM handoffs WHERE status = 'assigned' GROUP BY agent"
        )
        return {str(row["agent"]): int(row["open"]) for row in rows}

    async def assign(self, handoff_id: int, username: str) -> bool:
        """True if this agent got it; False if it was no longer waiting. Safe across
        gateways: a competing UPDATE waits for this row, then finds it no longer queued."""
        async with self._pool.acquire() as connection, connection.transaction():
            won = await connection.fetchval(
                "UPDATE handoffs SET status = 'assigned', agent = $1, assigned_at = $2"
                " WHERE id = $3 AND status = 'queued' RETURNING 1",
                username,
                time.time(),
                handoff_id,
            )
            await _note_last_handoff(connection, handoff_id)
        return won is not None

    async def reassign(
        self, handoff_id: int, from_agent: str, to_agent: str, *, only_open: bool = True
    ) -> bool:
        """Give an assigned chat to `to_agent`; False if it was no longer `from_agent`'s
        (moved by someone else first, or, with `only_open`, closed). `assigned_at` stays:
        handle time counts from the first agent. Of two racing moves one wins, as `assign`."""
        moved = await self._pool.fetchval(
            "UPDATE handoffs SET agent = $1 WHERE id = $2 AND agent = $3"
            + (" AND status = 'assigned'" if only_open else "")
            + " RETURNING 1",
            to_agent,
            handoff_id,
            from_agent,
        )
        return moved is not None

    async def requeue(self, handoff_id: int, from_agent: str, skill: str | None) -> bool:
        """Back to the queue for `skill` (interface.Handoffs.requeue). `assigned_at`
        stays until the next accept sets it: analytics reads it of assigned and closed
        chats only. Of a requeue racing a move one wins, as `assign`."""
        async with self._pool.acquire() as connection, connection.transaction():
            moved = await connection.fetchval(
                "UPDATE handoffs SET status = 'queued', agent = NULL, skill = $1"
                " WHERE id = $2 AND agent = $3 AND status = 'assigned' RETURNING 1",
                skill,
                handoff_id,
                from_agent,
            )
            await _note_last_handoff(connection, handoff_id)
        return moved is not None

    async def assigned(self) -> list[Handoff]:
        """Every chat an agent has now, longest held first, without the stored contexts
        (the supervisors' live view)."""
        rows = await self._pool.fetch(
            "SELECT id, conversation_id, status, reason, priority, language, skill, agent,"
            " summary, queued_at, assigned_at, closed_at FROM handoffs"
            " WHERE status = 'assigned' ORDER BY assigned_at, id"
        )
        return [handoff_from_row(row, context={}) for row in rows]

    async def save_context(self, handoff: Handoff) -> None:
        await self._pool.execute(
            "UPDATE handoffs SET context_json = $1 WHERE id = $2",
            json.dumps(handoff.context, ensure_ascii=False),
            handoff.id,
        )

    async def note_agent_reply(self, handoff_id: int) -> None:
        """Remember when the agent first wrote to the customer (analytics: the wait)."""
        await self._pool.execute(
            "UPDATE handoffs SET first_reply_at = $1 WHERE id = $2 AND first_reply_at IS NULL",
            time.time(),
            handoff_id,
        )

    async def resolve_handoff(self, handoff_id: int, agent: str) -> bool:
        """Close an assigned chat as resolved if it is still `agent`'s; False if it was
        moved or closed meanwhile. Against a racing reassign one UPDATE waits for the
        other's row lock, then finds the row changed."""
        async with self._pool.acquire() as connection, connection.transaction():
            resolved = await connection.fetchval(
                "UPDATE handoffs SET status = 'resolved', closed_at = $1"
                " WHERE id = $2 AND status = 'assigned' AND agent = $3 RETURNING 1",
                time.time(),
                handoff_id,
                agent,
            )
            await _note_last_handoff(connection, handoff_id)
        return resolved is not None

    async def close(self, handoff_id: int, status: str) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "UPDATE handoffs SET status = $1, closed_at = $2 WHERE id = $3",
                status,
                time.time(),
                handoff_id,
            )
            await _note_last_handoff(connection, handoff_id)

    async def recent_handling_seconds(self, limit: int = 20) -> list[float]:
        rows = await self._pool.fetch(
            "SELECT closed_at - assigned_at AS seconds FROM handoffs WHERE status = 'resolved'"
            " AND assigned_at IS NOT NULL ORDER BY closed_at DESC LIMIT $1",
            limit,
        )
        return [float(row["seconds"]) for row in rows if row["seconds"] is not None]

    # -- tickets and ratings ------------------------------------------------------------------

    async def create_ticket(
        self, conversation_id: str, language: str, contact: dict[str, str], message: str
    ) -> int:
        ticket_id = await self._pool.fetchval(
            "INSERT INTO tickets (conversation_id, language, contact_json, message, status,"
            " created_at) VALUES ($1, $2, $3, $4, 'open', $5) RETURNING id",
            conversation_id,
            language,
            json.dumps(contact, ensure_ascii=False),
            message,
            utc_now(),
        )
        return int(ticket_id)

    async def tickets(self, view: str = "all", agent: str = "") -> list[dict[str, Any]]:
        where, args = ticket_view_filter(view, agent, "$1")
        rows = await self._pool.fetch(
            f"SELECT * FROM tickets {where} ORDER BY id DESC LIMIT 200", *args
        )
        return [ticket_dict(r) for r in rows]

    async def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow("SELECT * FROM tickets WHERE id = $1", ticket_id)
        return ticket_dict(row) if row is not None else None

    async def change_ticket(
        self, ticket_id: int, transition: str, agent: str, resolution: str | None = None
    ) -> dict[str, Any]:
        async with self._pool.acquire() as connection, connection.transaction():
            # The ticket's row lock, held to the commit: of two claims at once, from any
            # gateway, the second waits here and then finds the ticket claimed.
            before = await _locked_ticket(connection, ticket_id)
            to_state = ticket_target(transition, before["state"], before["claimed_by"], agent)
            now = utc_now()
            await connection.execute(
                "UPDATE tickets SET status = $2,"
                " claimed_by = CASE $3 WHEN 'claim' THEN $4 WHEN 'release' THEN NULL"
                " ELSE claimed_by END,"
                " claimed_at = CASE $3 WHEN 'claim' THEN $5 WHEN 'release' THEN NULL"
                " ELSE claimed_at END,"
                " closed_at = CASE $3 WHEN 'close' THEN $5 ELSE closed_at END,"
                " resolution = CASE $3 WHEN 'close' THEN $6 ELSE resolution END"
                " WHERE id = $1",
                ticket_id,
                to_state,
                transition,
                agent,
                now,
                resolution,
            )
            extra = {"resolution": resolution} if transition == "close" and resolution else {}
            await connection.execute(
                _TICKET_EVENT,
                ticket_id,
                ticket_event_name(transition),
                ticket_event(ticket_id, transition, before["state"], to_state, agent, **extra),
                now,
            )
            return await _locked_ticket(connection, ticket_id)

    async def add_rating(self, conversation_id: str, rating: int, handoff: Handoff | None) -> None:
        """One rating per handoff (per conversation without one): the customer's latest
        answer replaces an earlier one (the unique index ratings_one_per_handoff)."""
        await self._pool.execute(
            "INSERT INTO ratings (conversation_id, handoff_id, agent, rating, ts)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (conversation_id, (COALESCE(handoff_id, 0))) DO UPDATE SET"
            " agent = excluded.agent, rating = excluded.rating, ts = excluded.ts",
            conversation_id,
            handoff.id if handoff else None,
            handoff.agent if handoff else None,
            rating,
            utc_now(),
        )

    async def ratings(self, conversation_id: str) -> list[int]:
        rows = await self._pool.fetch(
            "SELECT rating FROM ratings WHERE conversation_id = $1 ORDER BY ts, id",
            conversation_id,
        )
        return [int(row["rating"]) for row in rows]

    # -- private notes ----------------------------------------------------------------------

    async def add_note(self, conversation_id: str, author: str, text: str) -> Note:
        # One statement (its own transaction): no row for an unknown conversation.
        row = await self._pool.fetchrow(
            "INSERT INTO conversation_notes (conversation_id, author, text, created_at)"
            " SELECT id, $2, $3, $4 FROM conversations WHERE id = $1 RETURNING *",
            conversation_id,
            author,
            note_text(text),
            utc_now(),
        )
        if row is None:
            raise KeyError(conversation_id)
        return _note(row)

    async def notes(self, conversation_id: str) -> list[Note]:
        rows = await self._pool.fetch(
            "SELECT * FROM conversation_notes WHERE conversation_id = $1 ORDER BY id",
            conversation_id,
        )
        return [_note(row) for row in rows]

    # -- labels -------------------------------------------------------------------------

    async def set_labels(
        self, conversation_id: str, labels: list[str], by: str
    ) -> tuple[list[str], list[str]]:
        async with self._pool.acquire() as connection, connection.transaction():
            # The conversation's row lock: label changes on one conversation, from any
            # gateway, one after the other, each reading the set it replaces.
            state = await connection.fetchval(
                "SELECT state FROM conversations WHERE id = $1 FOR UPDATE", conversation_id
            )
            if state is None:
                raise KeyError(conversation_id)
            before = await connection.fetch(
                "SELECT label FROM conversation_labels WHERE conversation_id = $1",
                conversation_id,
            )
            added, removed = label_change({row["label"] for row in before}, labels)
            if not added and not removed:
                return [], []
            now = utc_now()
            await connection.execute(
                "DELETE FROM conversation_labels WHERE conversation_id = $1"
                " AND label = ANY($2::text[])",
                conversation_id,
                removed,
            )
            await connection.executemany(
                "INSERT INTO conversation_labels (conversation_id, label, set_by, set_at)"
                " VALUES ($1, $2, $3, $4)",
                [(conversation_id, label, by, now) for label in added],
            )
            # The conversation's history: an event that leaves the state as it is.
            await connection.execute(
                "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
                " VALUES ($1, 'labels', $2, $2, $3, $4)",
                conversation_id,
                state,
                label_event(added, removed, by),
                now,
            )
        return added, removed

    async def labels(self, conversation_id: str) -> list[str]:
        return (await self.labels_of([conversation_id])).get(conversation_id, [])

    async def labels_of(self, conversation_ids: list[str]) -> dict[str, list[str]]:
        if not conversation_ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT conversation_id, label FROM conversation_labels"
            " WHERE conversation_id = ANY($1::text[]) ORDER BY conversation_id, label",
            conversation_ids,
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["conversation_id"], []).append(row["label"])
        return found

    # -- notices ----------------------------------------------------------------------------

    async def add_notice(self, notice: Notice) -> Notice:
        if notice.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        row = await self._pool.fetchrow(
            "INSERT INTO notices (id, texts_json, topics_json, severity, starts_at, ends_at,"
            " created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
            notice.id,
            json.dumps(notice.texts, ensure_ascii=False),
            json.dumps(list(notice.topics)),
            notice.severity,
            notice.starts_at,
            notice.ends_at,
            notice.created_by,
            utc_now(),
        )
        return notice_from_row(row)

    async def notices(self, after: str) -> list[Notice]:
        rows = await self._pool.fetch(
            "SELECT * FROM notices WHERE ends_at IS NULL OR ends_at > $1 ORDER BY starts_at, id",
            after,
        )
        return [notice_from_row(row) for row in rows]

    async def end_notice(self, notice_id: str, by: str, at: str) -> Notice | None:
        # One statement: the UPDATE's row if it ended the notice, else the row as it was.
        row = await self._pool.fetchrow(
            "WITH ended AS (UPDATE notices SET ends_at = $3, ended_by = $2"
            " WHERE id = $1 AND (ends_at IS NULL OR ends_at > $3) RETURNING *)"
            " SELECT * FROM ended UNION ALL"
            " SELECT * FROM notices WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ended)",
            notice_id,
            by,
            at,
        )
        return notice_from_row(row) if row is not None else None


async def _note_last_handoff(connection: asyncpg.Connection, handoff_id: int) -> None:
    """The conversation keeps its latest handoff's status (analytics.outcomes); in the
    same transaction as the change."""
    await connection.execute(
        "UPDATE conversations SET last_handoff = h.status FROM handoffs h"
        " WHERE h.id = $1 AND conversations.id = h.conversation_id",
        handoff_id,
    )


def postgres_fetch(
    pool: asyncpg.Pool,
) -> Callable[[str, dict[str, object]], Awaitable[list[dict[str, Any]]]]:
    """analytics.Fetch on PostgreSQL: its queries name parameters (":start"), as SQLite
    takes them; asyncpg numbers them ("$1"), so each name becomes a number."""

    async def fetch(sql: str, params: dict[str, object]) -> list[dict[str, Any]]:
        numbers: dict[str, int] = {}

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in numbers:
                numbers[name] = len(numbers) + 1
            return f"${numbers[name]}"

        numbered = _NAMED_PARAMETER.sub(number, sql)
        rows = await pool.fetch(numbered, *(params[name] for name in numbers))
        return [dict(row) for row in rows]

    return fetch
