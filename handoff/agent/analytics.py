"""Support analytics for supervisors: each figure is one function with one SQL aggregation,
and its definition is the function's docstring (the API serves it next to the numbers).

Rules every figure shares:

- A conversation, and everything that happened in it, counts on the day it started
  (`conversations.created_at`) in the report's time zone (`tz`, default UTC) and in its
  language (`conversations.language`: the last one detected). So a rating given after
  midnight still belongs to its conversation.
- Only conversations in which the customer wrote at least one message count: opening the
  widget creates a conversation, and an empty one says nothing about the service.
- `from` and `to` are days in `tz`, both included; `language` (ko / ja / en) narrows to one.
- Time zones: each day of the range is the UTC interval from its local midnight to the
  next one, computed per day with zoneinfo, so a day of a DST change (23 or 25 hours)
  is bucketed exactly, and a midnight that a DST jump skips starts its day at the first
  local time that exists. The big tables (conversations, bot_events) are grouped by the
  UTC hour their conversation started, in index order, and the hours folded into the
  zone's days here (exact whenever every day starts on a whole UTC hour: UTC and every
  whole-hour zone, DST or not); the small ones (handoffs, ratings), and the big ones in
  the few zones at :30 / :45 offsets, by the day itself: the timestamp's first ten
  characters when days start at 00:00 UTC, else a binary search over the days' UTC
  boundaries (nested CASE, ~log2(days) comparisons a row, the boundaries parameters).
- Rows come per (day, language) and rolled up: `day = "all"` is the whole range,
  `language = "all"` every language. Counts roll up by summing the small per-day
  aggregate; percentiles merge the per-day histograms.
- Percentiles are nearest-rank (the smallest value with at least p % of values at or
  below it), in whole seconds, read off per-day histograms the database returns.

The SQL is portable (CASE, SUBSTR, ROUND, EXISTS, UNION ALL, GROUP BY column positions;
no JSON functions, no dialect date maths): times the gateway keeps as epoch seconds are
subtracted as numbers, and the conversation's start (ISO-8601 UTC, which sorts as time)
is stored with each handoff and bot event when it is written (`started_at`). Queries run
through a `Fetch` callable, so a PostgreSQL store can serve them with its own driver.

Tables read: conversations (with the facts the store keeps on each as they happen:
engaged, kb_answered, kb_rejected, last_handoff), handoffs, ratings, conversation_labels
and bot_events (handoff/conversation/bot_events.py). Handoffs and bot events carry their
conversation's start (`started_at`) and the language it had then, so no figure joins on
conversation ids except the few ratings and labels; conversation figures read a covering
index only. Nothing scans messages.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handoff.store.sqlite_connection import OneTripConnection

ALL = "all"
LANGUAGES = ("ko", "ja", "en")
MAX_DAYS = 366
DEFAULT_TZ = "UTC"
# IANA names: "Asia/Seoul", "America/Argentina/Buenos_Aires", "Etc/GMT+9", "UTC".
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+){0,2}")

Row = dict[str, Any]
# Read-only connections a report runs its figures on at once (one per core, up to 4).
READERS = min(4, os.cpu_count() or 2)
Fetch = Callable[[str, dict[str, object]], Awaitable[list[Row]]]


def sqlite_fetch(db: OneTripConnection) -> Fetch:
    """Run analytics queries on a SQLite connection (each in one trip to its thread)."""

    async def fetch(sql: str, params: dict[str, object]) -> list[Row]:
        result = await db.execute(sql, params)
        names = [column[0] for column in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.rows]

    return fetch


class SQLiteReaders:
    """A few read-only connections, so that a report's figures run side by side: each
    connection (store/sqlite_connection.py) runs its queries in a thread of its own,
    SQLite lets go of the GIL while it works, and WAL readers do not wait for each other
    or for the writer."""

    def __init__(self, connections: list[OneTripConnection]) -> None:
        self._connections = connections
        self._free: asyncio.Queue[OneTripConnection] = asyncio.Queue()
        for connection in connections:
            self._free.put_nowait(connection)

    @classmethod
    async def open(cls, path: Path, count: int = READERS) -> SQLiteReaders:
        connections = []
        for _ in range(count):
            connection = await OneTripConnection.open(path)
            await connection.execute("PRAGMA query_only = 1")
            connections.append(connection)
        return cls(connections)

    async def fetch(self, sql: str, params: dict[str, object]) -> list[Row]:
        connection = await self._free.get()
        try:
            return await sqlite_fetch(connection)(sql, params)
        finally:
            self._free.put_nowait(connection)

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()


class InvalidRange(ValueError):
    """Filters the API cannot use; the message says what to send instead."""


@lru_cache(maxsize=64)
def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. Asia/Seoul); InvalidRange if there is none."""
    if len(name) > 64 or not _ZONE_NAME.fullmatch(name):
        raise InvalidRange("'tz' must be an IANA time zone name like Asia/Seoul or UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidRange(f"'tz': no time zone is called {name!r}") from None


@lru_cache(maxsize=16384)
def _local_day(hour: str, tz: str) -> str:
    """The day in `tz` of the UTC hour `hour` ("2026-11-01T15")."""
    moment = datetime.fromisoformat(f"{hour}:00:00+00:00")
    return moment.astimezone(time_zone(tz)).date().isoformat()


def _utc_iso(moment: datetime) -> str:
    """As the store writes timestamps (handoff/store/sqlite.py utc_now), so they compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # included
    language: str | None = None
    tz: str = DEFAULT_TZ  # whose days `start`, `end` and the per-day rows are

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidRange("'from' must not be after 'to'")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise InvalidRange(f"the range is longer than {MAX_DAYS} days")
        if self.language is not None and self.language not in LANGUAGES:
            raise InvalidRange(f"'language' must be one of {', '.join(LANGUAGES)}")
        time_zone(self.tz)

    @cached_property
    def _starts(self) -> list[datetime]:
        zone = time_zone(self.tz)
        return [
            datetime.combine(self.start + timedelta(days=i), time(0), tzinfo=zone)
            for i in range(len(self.days()) + 1)
        ]

    def boundaries(self) -> list[str]:
        """When each day of the range starts, as a UTC timestamp, and when the last one
        ends: local midnight in `tz`, per day (so DST changes fall where they do). A
        midnight that does not exist (a DST jump at 00:00) reads as the instant of the
        jump (zoneinfo's fold=0), the first moment of that day."""
        return [_utc_iso(moment) for moment in self._starts]

    def hourly(self) -> bool:
        """Whether every day of the range starts on a whole UTC hour (then the database
        groups by hour and `day_of` names each hour's day exactly)."""
        return all(moment.astimezone(UTC).minute == 0 for moment in self._starts)

    def midnight_utc(self) -> bool:
        """Whether every day of the range starts at 00:00 UTC (tz UTC, or a zone at
        offset 0 throughout)."""
        return all(b.endswith("T00:00:00.000Z") for b in self.boundaries())

    def day_of(self, bucket: str) -> str:
        """The day of a `_bucket` value: a UTC hour ("2026-11-01T15") as the day it is
        in `tz`, or a day as it is."""
        return _local_day(bucket, self.tz) if len(bucket) == len("2026-11-01T15") else bucket

    def params(self) -> dict[str, object]:
        """:b0 .. :bN the boundaries, :d0 .. :dN-1 the days, :first_hour / :last_hour and
        :first_day / :last_day the UTC hours and days the range touches, :language if
        narrowed."""
        bounds = self.boundaries()
        last = self._starts[-1].astimezone(UTC) - timedelta(milliseconds=1)
        params: dict[str, object] = {f"b{i}": b for i, b in enumerate(bounds)}
        params.update({f"d{i}": day for i, day in enumerate(self.days())})
        params["first_hour"] = bounds[0][:13]
        params["last_hour"] = _utc_iso(last)[:13]
        params["first_day"], params["last_day"] = bounds[0][:10], _utc_iso(last)[:10]
        if self.language is not None:
            params["language"] = self.language
        return params

    def days(self) -> list[str]:
        count = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(count)]


def _hour(column: str) -> str:
    """The UTC hour of an ISO-8601 UTC timestamp ("2026-11-01T15"): what the report
    indexes (store/sqlite.py) lead with, so the database aggregates hours in index order."""
    return f"SUBSTR({column}, 1, 13)"


def _in_range(column: str, filters: Filters) -> str:
    """`column` (an ISO-8601 UTC timestamp) falls within the range's days: the hours
    they touch (the index's range), and, unless the days start on whole hours, the exact
    instants too."""
    hours = f"{_hour(column)} >= :first_hour AND {_hour(column)} <= :last_hour"
    if filters.hourly():
        return hours
    return hours + f" AND {column} >= :b0 AND {column} < :b{len(filters.days())}"


def _bucket(column: str, filters: Filters) -> str:
    """What per-day rows of a big table (conversations, bot_events) are grouped by, for
    `column` within the range: its UTC hour, in index order, which `Filters.day_of` turns
    into the day afterwards, when every day of the range starts on a whole UTC hour (any
    zone at a whole-hour offset, DST or not). Else (zones at :30 and :45 offsets) the day
    itself (`_day`): exact, but the database sorts the rows to group them."""
    return _hour(column) if filters.hourly() else _day(column, filters)


def _day(column: str, filters: Filters) -> str:
    """The day `column`, a timestamp within the range, falls on: its first ten
    characters when every day starts at 00:00 UTC, else a binary search over the days'
    boundaries, as nested CASEs (~log2(days) comparisons a row). For the small tables
    (handoffs, ratings): one row per day, not per hour, leaves the database."""
    if filters.midnight_utc():
        return f"SUBSTR({column}, 1, 10)"

    def search(first: int, after: int) -> str:  # days first .. after-1
        if after - first == 1:
            return f":d{first}"
        middle = (first + after) // 2
        return (
            f"CASE WHEN {column} < :b{middle} THEN {search(first, middle)}"
            f" ELSE {search(middle, after)} END"
        )

    return search(0, len(filters.days()))


def by_day(rows: Iterable[Row], filters: Filters) -> list[Row]:
    """Rows grouped by (`_bucket`, language), summed into one row per (day, language)."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        day = filters.day_of(row["day"])
        total = merged.get((day, row["language"]))
        if total is None:
            merged[(day, row["language"])] = {**row, "day": day}
            continue
        for name, value in row.items():
            if name not in ("day", "language"):
                total[name] = (total[name] or 0) + (value or 0)
    return list(merged.values())


def _conversations(filters: Filters) -> str:
    """The WHERE conditions of the counted conversations `c` (conversations_by_hour,
    store/sqlite.py, covers every column they and the figures read)."""
    language = " AND c.language = :language" if filters.language is not None else ""
    return _in_range("c.created_at", filters) + " AND c.engaged = 1" + language


def _handoffs(filters: Filters) -> str:
    """The WHERE conditions of handoffs `h` in the counted conversations (`started_at` is
    the conversation's; a handoff always follows something the customer wrote)."""
    language = " AND h.language = :language" if filters.language is not None else ""
    return _in_range("h.started_at", filters) + language


def _bot_events(filters: Filters) -> str:
    """The WHERE conditions of bot_events `e` in the counted conversations (`started_at`
    is the conversation's; the bot only decides on what a customer wrote)."""
    language = " AND e.language = :language" if filters.language is not None else ""
    return _in_range("e.started_at", filters) + language


# -- figures ------------------------------------------------------------------------------


async def outcomes(fetch: Fetch, filters: Filters) -> list[Row]:
    """How conversations ended. Every counted conversation is in exactly one outcome:

    - bot_resolved (deflection): never handed to a person, the bot showed at least one
      knowledge-base answer, and the customer never said "that didn't help" or
      "none of these";
    - bot_unresolved: never handed to a person, but no answer shown or one rejected;
    - handed_off: queued for a person at least once, split by how its last handoff
      ended: agent_resolved, abandoned (left the queue without an agent), offline_ticket
      (left a message for later), cancelled (withdrew the request), open (still queued
      or with an agent).

    deflection_rate = bot_resolved / conversations."""
    # GROUP BY 1, 2: the day expression may be long; positions are portable SQL.
    sql = (
        f"SELECT {_bucket('c.created_at', filters)} AS day, c.language, COUNT(*) AS conversations,"
        " SUM(CASE WHEN c.last_handoff IS NULL AND c.kb_answered = 1 AND c.kb_rejected = 0"
        "  THEN 1 ELSE 0 END) AS bot_resolved,"
        " SUM(CASE WHEN c.last_handoff IS NULL AND (c.kb_answered = 0 OR c.kb_rejected = 1)"
        "  THEN 1 ELSE 0 END) AS bot_unresolved,"
        " SUM(CASE WHEN c.last_handoff IS NOT NULL THEN 1 ELSE 0 END) AS handed_off,"
        " SUM(CASE WHEN c.last_handoff = 'resolved' THEN 1 ELSE 0 END) AS agent_resolved,"
        " SUM(CASE WHEN c.last_handoff = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,"
        " SUM(CASE WHEN c.last_handoff = 'offline_ticket' THEN 1 ELSE 0 END) AS offline_ticket,"
        " SUM(CASE WHEN c.last_handoff = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,"
        " SUM(CASE WHEN c.last_handoff IN ('queued', 'assigned') THEN 1 ELSE 0 END) AS open"
        " FROM conversations c WHERE " + _conversations(filters) + " GROUP BY 1, 2"
    )
    rows = roll_up(by_day(await fetch(sql, filters.params()), filters), ())
    for row in rows:
        row["deflection_rate"] = _ratio(row["bot_resolved"], row["conversations"])
    return rows


async def handoff_reasons(fetch: Fetch, filters: Filters) -> list[Row]:
    """Handoffs (each time a conversation was queued for a person) by the reason the bot or
    the gateway gave: requested (the customer asked), misses (two questions in a row the
    knowledge base could not answer), not_helpful ("that didn't help" twice), complaint
    (a complaint the knowledge base could not answer), always_human (a topic that always
    goes to a person, e.g. a billing dispute)."""
    sql = (
        f"SELECT {_day('h.started_at', filters)} AS day, h.language, h.reason,"
        " COUNT(*) AS handoffs FROM handoffs h WHERE " + _handoffs(filters) + " GROUP BY 1, 2, 3"
    )
    return roll_up(await fetch(sql, filters.params()), ("reason",))


async def first_reply_wait(fetch: Fetch, filters: Filters) -> list[Row]:
    """Wait to the first agent reply, in seconds: from the moment a conversation was queued
    for a person to the first message an agent wrote in it, for every handoff an agent
    replied to (handoffs nobody answered are not in it: see abandoned). count, mean,
    p50 and p90 (nearest rank)."""
    return await _percentiles(
        fetch,
        filters,
        "h.first_reply_at - h.queued_at",
        "h.first_reply_at IS NOT NULL",
    )


async def handle_time(fetch: Fetch, filters: Filters) -> list[Row]:
    """Handle time, in seconds: from an agent accepting a chat to the agent resolving it,
    for every handoff that ended resolved. count, mean, p50 and p90 (nearest rank)."""
    return await _percentiles(
        fetch,
        filters,
        "h.closed_at - h.assigned_at",
        "h.status = 'resolved' AND h.assigned_at IS NOT NULL AND h.closed_at IS NOT NULL",
    )


async def csat(fetch: Fetch, filters: Filters) -> list[Row]:
    """Customer satisfaction (1-5) per agent; agent "bot" collects ratings given with no
    agent's chat before them (bot-only conversations), agent "all" everyone. After an
    agent resolves a chat the bot asks for a rating: asked = resolved handoffs,
    responded = those rated, response_rate = responded / asked. ratings counts the
    ratings (one per handoff: a second tap replaces the first), average is their mean,
    r1..r5 their distribution."""
    sql = (
        "SELECT day, language, agent, SUM(asked) AS asked, SUM(responded) AS responded,"
        " SUM(ratings) AS ratings, SUM(score) AS score_sum, SUM(r1) AS r1, SUM(r2) AS r2,"
        " SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5 FROM ("
        f" SELECT {_day('h.started_at', filters)} AS day, h.language, h.agent, 1 AS asked,"
        " CASE WHEN EXISTS (SELECT 1 FROM ratings r WHERE r.handoff_id = h.id)"
        "  THEN 1 ELSE 0 END AS responded,"
        " 0 AS ratings, 0 AS score, 0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5"
        " FROM handoffs h WHERE "
        + _handoffs(filters)
        + " AND h.status = 'resolved' AND h.agent IS NOT NULL"
        " UNION ALL"
        f" SELECT {_day('c.created_at', filters)}, c.language, COALESCE(r.agent, 'bot'),"
        " 0, 0, 1,"
        " r.rating,"
        " CASE WHEN r.rating = 1 THEN 1 ELSE 0 END, CASE WHEN r.rating = 2 THEN 1 ELSE 0 END,"
        " CASE WHEN r.rating = 3 THEN 1 ELSE 0 END, CASE WHEN r.rating = 4 THEN 1 ELSE 0 END,"
        " CASE WHEN r.rating = 5 THEN 1 ELSE 0 END"
        " FROM ratings r CROSS JOIN conversations c"
        " WHERE r.ts >= :b0 AND c.id = r.conversation_id AND "
        + _conversations(filters)
        + ") facts GROUP BY day, language, agent"
    )
    per_agent = await fetch(sql, filters.params())
    rows = roll_up(per_agent + summed_over(per_agent, "agent"), ("agent",))
    for row in rows:
        row["average"] = _ratio(row["score_sum"], row["ratings"], digits=2)
        row["response_rate"] = _ratio(row["responded"], row["asked"]) if row["asked"] else None
    return rows


async def bot_decisions(fetch: Fetch, filters: Filters) -> list[Row]:
    """What the knowledge base decided for each question the bot took: answer (confident),
    clarify (offered close candidates), abstain (nothing close). Shares are over those
    three; chosen counts the articles customers then picked from the options. Counted in
    the conversation's language at the time of the decision."""
    sql = (
        f"SELECT {_bucket('e.started_at', filters)} AS day, e.language,"
        " SUM(CASE WHEN e.kind = 'answer' THEN 1 ELSE 0 END) AS answer,"
        " SUM(CASE WHEN e.kind = 'clarify' THEN 1 ELSE 0 END) AS clarify,"
        " SUM(CASE WHEN e.kind = 'abstain' THEN 1 ELSE 0 END) AS abstain,"
        " SUM(CASE WHEN e.kind = 'chosen' THEN 1 ELSE 0 END) AS chosen"
        " FROM bot_events e WHERE " + _bot_events(filters) + " AND e.kind IN"
        " ('answer', 'clarify', 'abstain', 'chosen') GROUP BY 1, 2"
    )
    rows = roll_up(by_day(await fetch(sql, filters.params()), filters), ())
    for row in rows:
        decided = row["answer"] + row["clarify"] + row["abstain"]
        for kind in ("answer", "clarify", "abstain"):
            row[f"{kind}_share"] = _ratio(row[kind], decided)
    return rows


async def labels(fetch: Fetch, filters: Filters) -> list[Row]:
    """Counted conversations per label agents put on them (data/labels.yml), as the labels
    are now: conversations = those with the label; share = conversations / every counted
    conversation (of the same day and language). A conversation with two labels counts
    under each, so the shares may add up to more than 1."""
    # Two aggregations in one query: per label (the join reads each counted conversation's
    # labels by their key), and every counted conversation (label '': no id is empty).
    where = _conversations(filters)
    sql = (
        f"SELECT {_bucket('c.created_at', filters)} AS day, c.language, l.label,"
        " COUNT(*) AS conversations FROM conversations c"
        " JOIN conversation_labels l ON l.conversation_id = c.id"
        f" WHERE {where} GROUP BY 1, 2, 3"
        f" UNION ALL SELECT {_bucket('c.created_at', filters)}, c.language, '', COUNT(*)"
        f" FROM conversations c WHERE {where} GROUP BY 1, 2"
    )
    # Per label, its (bucket, language) rows summed into days (by_day sums all but those two).
    per_label: dict[str, list[Row]] = {}
    for row in await fetch(sql, filters.params()):
        label = row.pop("label")
        per_label.setdefault(label, []).append(row)
    counted = {
        (row["day"], row["language"]): row["conversations"]
        for row in roll_up(by_day(per_label.pop("", []), filters), ())
    }
    daily = [
        {"day": row["day"], "language": row["language"], "label": label, **row}
        for label, label_rows in per_label.items()
        for row in by_day(label_rows, filters)
    ]
    rows = roll_up(daily, ("label",))
    for row in rows:
        row["share"] = _ratio(row["conversations"], counted.get((row["day"], row["language"])))
    return rows


# A help-centre vote's row (handoff/helpcentre/feedback.py): no conversation has this id.
_HELP_CENTRE = "(e.conversation_id LIKE 'helpcentre:%')"


async def articles(fetch: Fetch, filters: Filters) -> list[Row]:
    """Per knowledge-base article and language, over the whole range (day "all": a daily
    split of every article would bury the table): shown = times the bot gave its answer
    (a confident answer, or the customer's pick from the options); helpful / not_helpful
    = times the customer then said "that helped" / "that didn't help"; the rates are over
    shown. help_centre_helpful / help_centre_not_helpful = readers' votes on the article's
    help-centre page (conversation ids "helpcentre:…"): counted apart, as a page view is
    not a "shown" (it is not recorded), so they stay out of the rates."""
    # Over the whole range: grouped in the order of bot_events_by_article (UTC day first:
    # no sort of the events in the database), the exact range on started_at; the outer
    # query sums the days away over those few thousand groups, in the database too.
    language = " AND e.language = :language" if filters.language is not None else ""
    sql = (
        # (CAST: PostgreSQL sums bigints into numeric, which its driver reads as Decimal.)
        "SELECT 'all' AS day, language, article_id, CAST(SUM(shown) AS BIGINT) AS shown,"
        " CAST(SUM(helpful) AS BIGINT) AS helpful,"
        " CAST(SUM(not_helpful) AS BIGINT) AS not_helpful,"
        " CAST(SUM(help_centre_helpful) AS BIGINT) AS help_centre_helpful,"
        " CAST(SUM(help_centre_not_helpful) AS BIGINT) AS help_centre_not_helpful FROM ("
        " SELECT e.day, e.language, e.article_id,"
        " SUM(CASE WHEN e.kind IN ('answer', 'chosen') THEN 1 ELSE 0 END) AS shown,"
        f" SUM(CASE WHEN e.kind = 'helpful' AND NOT {_HELP_CENTRE} THEN 1 ELSE 0 END)"
        " AS helpful,"
        f" SUM(CASE WHEN e.kind = 'not_helpful' AND NOT {_HELP_CENTRE} THEN 1 ELSE 0 END)"
        " AS not_helpful,"
        f" SUM(CASE WHEN e.kind = 'helpful' AND {_HELP_CENTRE} THEN 1 ELSE 0 END)"
        " AS help_centre_helpful,"
        f" SUM(CASE WHEN e.kind = 'not_helpful' AND {_HELP_CENTRE} THEN 1 ELSE 0 END)"
        " AS help_centre_not_helpful"
        " FROM bot_events e WHERE e.day >= :first_day AND e.day <= :last_day"
        f" AND e.started_at >= :b0 AND e.started_at < :b{len(filters.days())}{language}"
        " AND e.article_id IS NOT NULL GROUP BY e.day, e.language, e.article_id"
        ") per_day GROUP BY language, article_id"
    )
    per_language = await fetch(sql, filters.params())
    rows = _sorted(per_language + summed_over(per_language, "language"), ("article_id",))
    for row in rows:
        row["helpful_rate"] = _ratio(row["helpful"], row["shown"])
        row["not_helpful_rate"] = _ratio(row["not_helpful"], row["shown"])
    return rows


async def most_answered(
    fetch: Fetch, language: str, since_day: str, limit: int
) -> list[tuple[str, int]]:
    """The articles whose answer the bot gave most often (a confident answer, or the
    customer's pick) in conversations in `language` started on `since_day` (UTC,
    YYYY-MM-DD) or later, with how often, most first: what customers ask most, for the
    widget's list of popular questions (handoff/customer/popular.py)."""
    sql = (
        "SELECT e.article_id, COUNT(*) AS answered FROM bot_events e"
        " WHERE e.day >= :since AND e.language = :language"
        " AND e.kind IN ('answer', 'chosen') AND e.article_id IS NOT NULL"
        " GROUP BY e.article_id ORDER BY answered DESC, e.article_id LIMIT :limit"
    )
    rows = await fetch(sql, {"since": since_day, "language": language, "limit": limit})
    return [(str(row["article_id"]), int(row["answered"])) for row in rows]


FIGURES: dict[str, Callable[[Fetch, Filters], Awaitable[list[Row]]]] = {
    "outcomes": outcomes,
    "handoff_reasons": handoff_reasons,
    "first_reply_wait": first_reply_wait,
    "handle_time": handle_time,
    "csat": csat,
    "bot_decisions": bot_decisions,
    "articles": articles,
    "labels": labels,
}


def definitions() -> dict[str, str]:
    """Each figure's definition: its docstring, one line per paragraph or list item."""
    out = {}
    for name, figure in FIGURES.items():
        doc = (figure.__doc__ or "").strip()
        items = re.split(r"\n\s*\n|\n\s*(?=- )", doc)
        out[name] = "\n".join(re.sub(r"\s+", " ", item).strip() for item in items)
    return out


async def report(fetch: Fetch, filters: Filters) -> dict[str, Any]:
    """Every figure for the filters, with its definition (the analytics API's body)."""
    # Side by side: the figures are independent queries (SQLiteReaders, asyncpg's pool).
    results = await asyncio.gather(*(figure(fetch, filters) for figure in FIGURES.values()))
    figures = dict(zip(FIGURES, results, strict=True))
    return {
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "language": filters.language or ALL,
        "tz": filters.tz,
        "days": filters.days(),
        "definitions": definitions(),
        "figures": figures,
    }


# -- shared pieces ----------------------------------------------------------------------------


async def _percentiles(fetch: Fetch, filters: Filters, seconds: str, where: str) -> list[Row]:
    """count, mean, p50 and p90 of `seconds` over the handoffs matching `where`, per
    (day, language) and rolled up. SQL counts the handoffs per whole second (a small
    histogram per day); the nearest-rank percentiles are read off the merged histograms,
    so no handoff row leaves the database and every roll-up is exact."""
    sql = (
        f"SELECT {_day('h.started_at', filters)} AS day, h.language,"
        f" ROUND({seconds}) AS seconds, COUNT(*) AS n, SUM({seconds}) AS total FROM handoffs h"
        " WHERE " + _handoffs(filters) + f" AND {where} GROUP BY 1, 2, 3"
    )
    # Each (day, language) histogram as (seconds, n) pairs; the roll-ups are the pairs of
    # their parts put together (list.extend and sort: C loops, not a dict update per row).
    pairs: dict[tuple[str, str], list[tuple[float, int]]] = {}
    totals: dict[tuple[str, str], float] = {}
    for row in await fetch(sql, filters.params()):
        key = (row["day"], row["language"])
        pairs.setdefault(key, []).append((float(row["seconds"]), int(row["n"])))
        totals[key] = totals.get(key, 0.0) + float(row["total"])
    for day, language in list(pairs):
        for key in ((day, ALL), (ALL, language), (ALL, ALL)):
            pairs.setdefault(key, []).extend(pairs[(day, language)])
            totals[key] = totals.get(key, 0.0) + totals[(day, language)]
    rows = []
    for (day, language), histogram in pairs.items():
        histogram.sort()
        running = list(accumulate(n for _, n in histogram))
        count = running[-1]
        rows.append(
            {
                "day": day,
                "language": language,
                "count": count,
                "mean": round(totals[(day, language)] / count, 1),
                "p50": _nearest_rank(histogram, running, 50),
                "p90": _nearest_rank(histogram, running, 90),
            }
        )
    return _sorted(rows, ())


def _nearest_rank(histogram: list[tuple[float, int]], running: list[int], percent: int) -> float:
    """The smallest value with at least `percent` % of the values at or below it, in a
    sorted histogram whose running counts are `running`."""
    count = running[-1]
    rank = (count * percent + 99) // 100
    return histogram[bisect_left(running, rank)][0]


def roll_up(rows: Iterable[Row], keys: Sequence[str]) -> list[Row]:
    """The per-(day, language) rows plus their sums for every day (`day = "all"`), every
    language (`language = "all"`) and both, keeping `keys` (e.g. the reason) apart."""
    base = [dict(row) for row in rows]
    totals: dict[tuple[Any, ...], Row] = {}
    for row in base:
        for day, language in ((row["day"], ALL), (ALL, row["language"]), (ALL, ALL)):
            group = (day, language, *(row[k] for k in keys))
            total = totals.setdefault(
                group, {"day": day, "language": language, **{k: row[k] for k in keys}}
            )
            for name, value in row.items():
                if name not in ("day", "language", *keys):
                    total[name] = total.get(name, 0) + (value or 0)
    return _sorted(base + list(totals.values()), keys)


def summed_over(rows: Iterable[Row], key: str) -> list[Row]:
    """`rows` with `key` summed away (set to "all"): e.g. every agent, or every language.
    Rows are grouped by day, language and article_id (those present) besides."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        kept = [k for k in ("day", "language", "article_id") if k in row and k != key]
        group = tuple(row[k] for k in kept)
        total = merged.setdefault(group, {**{k: row[k] for k in kept}, key: ALL})
        for name, number in row.items():
            if name not in (*kept, key):
                total[name] = total.get(name, 0) + (number or 0)
    return [{"day": r["day"], "language": r["language"], **r} for r in merged.values()]


def _sorted(rows: list[Row], keys: Sequence[str]) -> list[Row]:
    return sorted(rows, key=lambda r: (r["day"], r["language"], *(str(r[k]) for k in keys)))


def _ratio(part: float | None, whole: float | None, digits: int = 4) -> float | None:
    if not whole:
        return None
    return round(float(part or 0) / float(whole), digits)


def to_csv(rows: list[Row]) -> str:
    """A figure's rows as CSV (the columns of its first row, in order)."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
