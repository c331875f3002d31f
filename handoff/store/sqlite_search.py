"""Conversation search on SQLite (what is searched and how: handoff/store/search.py).

3+ characters: the `search_text` FTS5 table (trigram tokenizer, migration 0006) finds the
matching lines, newest first, and LIKE the few lines not indexed yet (migration 0011); 1-2 characters: LIKE over the messages, customers and
tickets of the most recent conversations. Either way the conversations' filters and
order come last. It runs on the store's connection thread (sqlite_connection.py), off the
event loop.
"""

from __future__ import annotations

from typing import Any

from handoff.store.search import (
    MAX_MATCHES,
    SHORT_QUERY_CONVERSATIONS,
    SearchFilters,
    SearchHit,
    fts_phrase,
    hit_from_row,
    like_pattern,
)
from handoff.store.sqlite_connection import OneTripConnection

# The customer's and a ticket's searchable text: as the triggers of migration 0006 index it.
_CUSTOMER_TEXT = (
    "TRIM(COALESCE(json_extract(customer_json, '$.name'), '') || ' '"
    " || COALESCE(json_extract(customer_json, '$.email'), '') || ' '"
    " || COALESCE(json_extract(customer_json, '$.id'), ''))"
)
_TICKET_TEXT = (
    "message || ' ' || COALESCE(json_extract(contact_json, '$.name'), '') || ' '"
    " || COALESCE(json_extract(contact_json, '$.email'), '') || ' '"
    " || COALESCE(json_extract(contact_json, '$.phone'), '')"
)
# A conversation's first customer message: what a result without a text match shows.
_FIRST_LINE = (
    "(SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.role = 'customer'"
    " ORDER BY m.seq LIMIT 1)"
)


def _conditions(filters: SearchFilters) -> tuple[str, list[Any]]:
    """The filters on `conversations c` as SQL and its parameters."""
    low, high = filters.bounds()
    clauses, parameters = ["1 = 1"], []
    if low is not None:
        clauses.append("c.updated_at >= ?")
        parameters.append(low)
    if high is not None:
        clauses.append("c.created_at < ?")
        parameters.append(high)
    if filters.states:
        clauses.append(f"c.state IN ({', '.join('?' for _ in filters.states)})")
        parameters.extend(filters.states)
    return " AND ".join(clauses), parameters


async def search(db: OneTripConnection, filters: SearchFilters) -> list[SearchHit]:
    where, parameters = _conditions(filters)
    if not filters.text:
        sql = (
            f"SELECT c.*, 'none' AS kind, NULL AS ref, {_FIRST_LINE} AS body"
            f" FROM conversations c WHERE {where} ORDER BY c.updated_at DESC, c.id LIMIT ?"
        )
        return await _hits(db, sql, [*parameters, filters.limit], filters.text)
    if filters.indexed:
        # The newest matching line of each conversation: from the lines not indexed yet
        # (the last second or so, read from `messages`; migration 0011), else from the
        # index, where rowid order is insertion order.
        sql = (
            "WITH fts AS (SELECT rowid AS o, conversation_id, kind, ref, body FROM search_text"
            "  WHERE search_text MATCH ? ORDER BY rowid DESC LIMIT ?),"
            " tail AS (SELECT rowid AS o, conversation_id, 'message' AS kind, seq AS ref,"
            "  text AS body FROM messages"
            "  WHERE rowid > (SELECT message_rowid FROM search_watermark)"
            "  AND text LIKE ? ESCAPE '\\'),"
            " line AS (SELECT *, 1 AS fresh FROM tail UNION ALL SELECT *, 0 FROM fts),"
            " newest AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY conversation_id"
            "  ORDER BY fresh DESC, o DESC) AS n FROM line)"
            " SELECT c.*, newest.kind, newest.ref, newest.body FROM newest"
            " JOIN conversations c ON c.id = newest.conversation_id"
            f" WHERE newest.n = 1 AND {where} ORDER BY c.updated_at DESC, c.id LIMIT ?"
        )
        arguments = [
            fts_phrase(filters.text),
            MAX_MATCHES,
            like_pattern(filters.text),
            *parameters,
            filters.limit,
        ]
        return await _hits(db, sql, arguments, filters.text)
    # 1-2 characters: no trigram to look up. LIKE is case-folded for ASCII only, as
    # SQLite's LIKE is; the recent conversations are read by their index on updated_at.
    pattern = like_pattern(filters.text)
    recent = f"SELECT c.id FROM conversations c WHERE {where} ORDER BY c.updated_at DESC LIMIT ?"
    lines = (
        "SELECT conversation_id, 'message' AS kind, seq AS ref, text AS body, ts AS at"
        " FROM messages WHERE conversation_id IN (SELECT id FROM recent)"
        " AND text LIKE ? ESCAPE '\\'"
        f" UNION ALL SELECT id, 'customer', 0, {_CUSTOMER_TEXT}, created_at FROM conversations"
        f" WHERE id IN (SELECT id FROM recent) AND {_CUSTOMER_TEXT} LIKE ? ESCAPE '\\'"
        f" UNION ALL SELECT conversation_id, 'ticket', id, {_TICKET_TEXT}, created_at"
        " FROM tickets WHERE conversation_id IN (SELECT id FROM recent)"
        f" AND {_TICKET_TEXT} LIKE ? ESCAPE '\\'"
    )
    sql = (
        f"WITH recent AS ({recent}), line AS ({lines}),"
        " newest AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY conversation_id"
        "  ORDER BY at DESC, ref DESC) AS n FROM line)"
        " SELECT c.*, newest.kind, newest.ref, newest.body FROM newest"
        " JOIN conversations c ON c.id = newest.conversation_id"
        " WHERE newest.n = 1 ORDER BY c.updated_at DESC, c.id LIMIT ?"
    )
    arguments = [
        *parameters,
        SHORT_QUERY_CONVERSATIONS,
        pattern,
        pattern,
        pattern,
        filters.limit,
    ]
    return await _hits(db, sql, arguments, filters.text)


async def _hits(
    db: OneTripConnection, sql: str, arguments: list[Any], text: str
) -> list[SearchHit]:
    async with db.execute(sql, arguments) as cursor:
        rows = await cursor.fetchall()
    return [hit_from_row(row, text) for row in rows]
