"""Conversation search for agents: what both backends share (the filters, a hit, the
snippet, the LIKE escaping). The queries themselves are the backends' `search`.

What is searched: every message's text (any role), the customer's name, email and id,
and each offline ticket's message and contact details. Korean, Japanese and English alike,
with no tokenizer that needs to know the language: a search is a substring match, case
folded, and `%` and `_` in it are plain characters.

- 3 characters or more: an index of trigrams finds it (SQLite: FTS5's `trigram`
  tokenizer in the `search_text` table, kept by triggers; PostgreSQL: pg_trgm GIN indexes
  on the columns themselves). Japanese needs no spaces ("返品したい" inside
  "昨日買った靴を返品したいです"), a Korean word is found with its particle attached.
- 1 or 2 characters (a Korean word is often two syllables: "환불"): no trigram to look
  up, so a plain LIKE scan over the SHORT_QUERY_CONVERSATIONS most recently active
  conversations that pass the filters: bounded work, and older ones are not searched.

Results are conversations, the most recently active first, at most `limit`; each with the
newest line that matched, as a snippet. Among the MAX_MATCHES newest matching lines only:
a term found everywhere costs a bounded read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

MAX_RESULTS = 50
# Shorter searches have no trigram: LIKE over this many recent conversations instead.
INDEXED_MIN_CHARS = 3
SHORT_QUERY_CONVERSATIONS = 2000
MAX_MATCHES = 20000
# Characters of context either side of the match in a snippet.
SNIPPET_CONTEXT = 40

FoundIn = Literal["message", "customer", "ticket", ""]

# Control characters and lone surrogates are nothing anyone typed; NUL would not even
# reach PostgreSQL. They become spaces (as in the help centre's search).
_NOT_TEXT = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_search(raw: str) -> str:
    """The search as matched: no control characters or surrogates, spaces collapsed."""
    return " ".join(_NOT_TEXT.sub(" ", raw).split())


@dataclass(frozen=True)
class SearchFilters:
    """What an agent asks for. `text` empty: every conversation that passes the filters.
    `since`/`until` (UTC days, both included) keep conversations active on some day of
    the range (started by `until`, last active on `since` or later); `states` keeps
    those in one of them (conversation/state_machine.py STATES); empty: any."""

    text: str = ""
    since: date | None = None
    until: date | None = None
    states: tuple[str, ...] = ()
    limit: int = MAX_RESULTS

    @property
    def indexed(self) -> bool:
        return len(self.text) >= INDEXED_MIN_CHARS

    def bounds(self) -> tuple[str | None, str | None]:
        """(updated_at at least, created_at before): ISO texts, compared as the stores
        keep their timestamps (UTC, 'YYYY-MM-DDTHH:MM:SS.sssZ')."""
        low = self.since.isoformat() if self.since else None
        high = (self.until + timedelta(days=1)).isoformat() if self.until else None
        return low, high


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    customer_name: str
    language: str
    state: str
    created_at: str
    updated_at: str
    snippet: str
    found_in: FoundIn = ""
    seq: int | None = None  # the message that matched
    ticket_id: int | None = None  # the ticket that matched

    def public(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "customer_name": self.customer_name,
            "language": self.language,
            "state": self.state,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "snippet": self.snippet,
            "found_in": self.found_in,
            "seq": self.seq,
            "ticket_id": self.ticket_id,
        }


def like_pattern(text: str) -> str:
    """`%text%` for LIKE ... ESCAPE '\\': the searched text's own %, _ and \\ are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase (a substring, with the trigram tokenizer)."""
    return '"' + text.replace('"', '""') + '"'


def snippet(body: str, text: str) -> str:
    """The part of `body` around the first match of `text` (case folded), with an
    ellipsis where it was cut; the start of `body` when the match is not found (a hit
    on the customer's fields, or folding that changes lengths)."""
    body = " ".join(body.split())
    at = body.lower().find(text.lower()) if text else -1
    if at < 0 or len(body.lower()) != len(body):
        at = 0
    start = max(0, at - SNIPPET_CONTEXT)
    end = min(len(body), at + max(len(text), SNIPPET_CONTEXT) + SNIPPET_CONTEXT)
    cut = body[start:end]
    return ("…" if start > 0 else "") + cut + ("…" if end < len(body) else "")


def hit_from_row(row: Any, text: str) -> SearchHit:
    """A result row of either backend (the conversation's columns, `kind`, `ref`,
    `body`) as a SearchHit."""
    customer = json.loads(row["customer_json"])
    kind = row["kind"]
    ref = row["ref"]
    body = row["body"] or ""
    return SearchHit(
        conversation_id=row["id"],
        customer_name=str(customer.get("name") or ""),
        language=row["language"],
        state=row["state"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        snippet=snippet(body, text),
        found_in=kind if kind in ("message", "customer", "ticket") else "",
        seq=int(ref) if kind == "message" else None,
        ticket_id=int(ref) if kind == "ticket" else None,
    )
