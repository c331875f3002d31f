"""Conversation search on PostgreSQL (what is searched and how: handoff/store/search.py).

`ILIKE '%text%'` on the columns themselves, which pg_trgm's GIN indexes (migration 0006)
answer for 3+ characters; 1-2 characters scan the most recent conversations only, as on
SQLite. The customer's and a ticket's text are spelled as the indexes' expressions, so
the planner can use them.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from handoff.store.search import (
    MAX_MATCHES,
    SHORT_QUERY_CONVERSATIONS,
    SearchFilters,
    SearchHit,
    hit_from_row,
    like_pattern,
)

log = logging.getLogger(__name__)

# Character types under which no Hangul, kana or kanji is a letter.
_BYTE_CTYPES = frozenset({"C", "POSIX"})


async def letters_are_indexed(pool: asyncpg.Pool) -> bool:
    """Whether pg_trgm can index Korean and Japanese in this database. It takes trigrams
    only from what the database's character type calls letters, and under the C locale
    (`initdb --no-locale`) no Hangul or kana is one: a ko/ja search is still right, but
    a scan of every message instead of an index lookup. A UTF-8 type (`C.UTF-8`,
    `ko_KR.UTF-8`, …) indexes them. Says so in the log, once, at start."""
    ctype = await pool.fetchval(
        "SELECT datctype FROM pg_database WHERE datname = current_database()"
    )
    if str(ctype) in _BYTE_CTYPES:
        log.warning(
            "the database's character type is %s: conversation search cannot index Korean "
            "or Japanese (it scans instead); create the database with a UTF-8 one, e.g. "
            "CREATE DATABASE ... LC_CTYPE 'C.UTF-8' TEMPLATE template0",
            ctype,
        )
        return False
    return True


_CUSTOMER_TEXT = (
    "TRIM(COALESCE((customer_json::jsonb) ->> 'name', '') || ' '"
    " || COALESCE((customer_json::jsonb) ->> 'email', '') || ' '"
    " || COALESCE((customer_json::jsonb) ->> 'id', ''))"
)
_TICKET_TEXT = (
    "(message || ' ' || COALESCE((contact_json::jsonb) ->> 'name', '') || ' '"
    " || COALESCE((contact_json::jsonb) ->> 'email', '') || ' '"
    " || COALESCE((contact_json::jsonb) ->> 'phone', ''))"
)
_CONVERSATION = "c.id, c.language, c.state, c.customer_json, c.created_at, c.updated_at"
_FIRST_LINE = (
    "(SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'customer'"
    " ORDER BY m.seq LIMIT 1)"
)


def _conditions(filters: SearchFilters, arguments: list[Any]) -> str:
    """The filters on `conversations c` as SQL; their values appended to `arguments`."""
    low, high = filters.bounds()
    clauses = ["TRUE"]
    if low is not None:
        arguments.append(low)
        clauses.append(f"c.updated_at >= ${len(arguments)}")
    if high is not None:
        arguments.append(high)
        clauses.append(f"c.created_at < ${len(arguments)}")
    if filters.states:
        arguments.append(list(filters.states))
        clauses.append(f"c.state = ANY(${len(arguments)}::text[])")
    return " AND ".join(clauses)


async def search(pool: asyncpg.Pool, filters: SearchFilters) -> list[SearchHit]:
    arguments: list[Any] = []
    where = _conditions(filters, arguments)
    if not filters.text:
        arguments.append(filters.limit)
        sql = (
            f"SELECT {_CONVERSATION}, 'none' AS kind, NULL::bigint AS ref, {_FIRST_LINE} AS body"
            f" FROM conversations c WHERE {where}"
            f" ORDER BY c.updated_at DESC, c.id LIMIT ${len(arguments)}"
        )
        return [hit_from_row(row, "") for row in await pool.fetch(sql, *arguments)]
    arguments.append(like_pattern(filters.text))
    pattern = f"${len(arguments)}"
    if filters.indexed:
        scope = ["", "", ""]
    else:
        # No trigram in 1-2 characters: only the most recent conversations are read.
        arguments.append(SHORT_QUERY_CONVERSATIONS)
        recent = (
            f"(SELECT c.id FROM conversations c WHERE {where}"
            f" ORDER BY c.updated_at DESC LIMIT ${len(arguments)})"
        )
        scope = [
            f" AND conversation_id IN {recent}",
            f" AND id IN {recent}",
            f" AND conversation_id IN {recent}",
        ]
    arguments.append(MAX_MATCHES)
    matches = f"${len(arguments)}"
    arguments.append(filters.limit)
    limit = f"${len(arguments)}"
    lines = (
        "SELECT conversation_id, 'message' AS kind, seq::bigint AS ref, text AS body, ts AS at"
        f" FROM messages WHERE text ILIKE {pattern}{scope[0]}"
        f" UNION ALL SELECT id, 'customer', 0, {_CUSTOMER_TEXT}, created_at FROM conversations"
        f" WHERE {_CUSTOMER_TEXT} ILIKE {pattern}{scope[1]}"
        f" UNION ALL SELECT conversation_id, 'ticket', id::bigint, {_TICKET_TEXT}, created_at"
        f" FROM tickets WHERE {_TICKET_TEXT} ILIKE {pattern}{scope[2]}"
    )
    sql = (
        f"WITH line AS ({lines} ORDER BY at DESC, ref DESC LIMIT {matches}),"
        " newest AS (SELECT DISTINCT ON (conversation_id) conversation_id, kind, ref, body"
        "  FROM line ORDER BY conversation_id, at DESC, ref DESC)"
        f" SELECT {_CONVERSATION}, newest.kind, newest.ref, newest.body FROM newest"
        " JOIN conversations c ON c.id = newest.conversation_id"
        f" WHERE {where} ORDER BY c.updated_at DESC, c.id LIMIT {limit}"
    )
    return [hit_from_row(row, filters.text) for row in await pool.fetch(sql, *arguments)]
