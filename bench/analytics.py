"""Analytics on a big store: 100 000 conversations over 30 days, then the supervisor
report (every figure of handoff/agent/analytics.py, as GET /api/agent/analytics runs it) timed.

    .venv/app/bin/python bench/analytics.py [--conversations 100000] [--runs 20]

The database is a temporary SQLite file in the real schema (SQLiteStore.open), filled
with bulk inserts in a realistic mix: 8 % opened without a message; ko/ja/en 45/30/25 %;
per question the KB answers 65 %, clarifies 15 %, abstains 20 %; 18 % handed to a
person (resolved, abandoned, offline ticket, cancelled, open); half the resolved chats
rated. Prints the report's p50/p95/max for the whole range, one language, one week, and
the whole range in Asia/Seoul days.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.agent import analytics
from handoff.store.sqlite import SQLiteStore

DAYS = 30
START = date(2026, 11, 1)
ARTICLES = [f"article_{i:02d}" for i in range(60)]
REASONS = ["requested"] * 45 + ["misses"] * 20 + ["not_helpful"] * 15 + ["complaint"] * 10
REASONS += ["always_human"] * 10
ENDINGS = ["resolved"] * 70 + ["abandoned"] * 10 + ["offline_ticket"] * 8 + ["cancelled"] * 7
ENDINGS += ["queued"] * 3 + ["assigned"] * 2
AGENTS = [f"agent{i}" for i in range(12)]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fill(path: Path, conversations: int, seed: int = 7) -> dict[str, int]:
    """Bulk-insert the mix; returns how many rows went into each table."""
    rng = random.Random(seed)
    rows: dict[str, list[tuple[object, ...]]] = {
        "conversations": [],
        "messages": [],
        "bot_events": [],
        "handoffs": [],
        "ratings": [],
    }
    handoff_id = 0
    base = datetime(START.year, START.month, START.day, tzinfo=UTC)
    for _ in range(conversations):
        cid = str(uuid.UUID(int=rng.getrandbits(128)))
        language = rng.choices(["ko", "ja", "en"], [45, 30, 25])[0]
        started = base + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        start = (iso(started)[:10], iso(started))  # the conversation's day, started_at
        # The facts the store keeps on each conversation (engaged, kb_answered,
        # kb_rejected, last_handoff), filled in as the conversation goes.
        facts: dict[str, object] = {"engaged": 0, "answered": 0, "rejected": 0, "last": None}
        conversation = (cid, "x" * 64, language, "bot", "{}", iso(started), iso(started))
        if rng.random() < 0.08:  # the widget was opened, nothing said
            rows["conversations"].append((*conversation, *facts.values()))
            continue
        facts["engaged"] = 1
        seq = 0
        clock = started

        def message(role: str, text: str, cid: str = cid) -> int:
            nonlocal seq, clock
            seq += 1
            clock += timedelta(seconds=rng.uniform(2, 40))
            rows["messages"].append(
                (cid, seq, role, text, None, None, "[]", "[]", "{}", iso(clock))
            )
            return seq

        for _question in range(rng.choice([1, 1, 1, 2, 2, 3])):
            message("customer", "a question")
            kind = rng.choices(["answer", "clarify", "abstain"], [65, 15, 20])[0]
            article = rng.choice(ARTICLES) if kind == "answer" else None
            at = message("bot", "a reply")
            rows["bot_events"].append((cid, at, kind, article, language, iso(clock), *start))
            if kind == "clarify" and rng.random() < 0.6:
                message("customer", "an option")
                at = message("bot", "the chosen answer")
                article = rng.choice(ARTICLES)
                rows["bot_events"].append(
                    (cid, at, "chosen", article, language, iso(clock), *start)
                )
            if article is not None:
                facts["answered"] = 1
            if article is not None and rng.random() < 0.5:
                verdict = rng.choices(["helpful", "not_helpful"], [80, 20])[0]
                message("customer", "yes or no")
                at = message("bot", "glad / sorry")
                rows["bot_events"].append((cid, at, verdict, article, language, iso(clock), *start))
                if verdict == "not_helpful":
                    facts["rejected"] = 1
        if rng.random() < 0.18:
            handoff_id += 1
            queued = clock.timestamp()
            ending = rng.choice(ENDINGS)
            agent = rng.choice(AGENTS) if ending in ("resolved", "assigned") else None
            assigned = queued + rng.lognormvariate(4, 1) if agent else None
            first_reply = assigned + rng.uniform(5, 90) if assigned else None
            closed = None
            if ending == "resolved" and assigned is not None:
                closed = assigned + rng.lognormvariate(5.5, 0.6)
            elif ending not in ("queued", "assigned"):
                closed = queued + rng.uniform(60, 900)
            rows["handoffs"].append(
                (
                    handoff_id,
                    cid,
                    ending,
                    rng.choice(REASONS),
                    1,
                    language,
                    None,
                    agent,
                    "summary",
                    "{}",
                    queued,
                    assigned,
                    closed,
                    first_reply,
                    *start,
                )
            )
            facts["last"] = ending
            if ending == "resolved" and rng.random() < 0.5:
                rating = rng.choices([1, 2, 3, 4, 5], [5, 5, 10, 30, 50])[0]
                rows["ratings"].append((cid, handoff_id, agent, rating, iso(clock)))
        rows["conversations"].append((*conversation, *facts.values()))
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO conversations (id, token_hash, language, state, customer_json,"
            " created_at, updated_at, engaged, kb_answered, kb_rejected, last_handoff)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["conversations"],
        )
        db.executemany(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["messages"]
        )
        db.executemany(
            "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts, day,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows["bot_events"],
        )
        db.executemany(
            "INSERT INTO handoffs (id, conversation_id, status, reason, priority, language,"
            " skill, agent, summary, context_json, queued_at, assigned_at, closed_at,"
            " first_reply_at, day, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["handoffs"],
        )
        db.executemany(
            "INSERT INTO ratings (conversation_id, handoff_id, agent, rating, ts)"
            " VALUES (?, ?, ?, ?, ?)",
            rows["ratings"],
        )
    db.close()
    return {table: len(values) for table, values in rows.items()}


async def time_report(path: Path, filters: analytics.Filters, runs: int) -> list[float]:
    """Milliseconds per full report, on read-only connections like the API's."""
    readers = await analytics.SQLiteReaders.open(path)
    timings = []
    try:
        await analytics.report(readers.fetch, filters)  # warm the page cache once
        for _ in range(runs):
            started = time.perf_counter()
            await analytics.report(readers.fetch, filters)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await readers.close()
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "analytics.sqlite3"
        store = await SQLiteStore.open(path)  # the real schema and indexes
        await store.close()
        started = time.perf_counter()
        counts = fill(path, args.conversations)
        print(
            f"filled in {time.perf_counter() - started:.1f}s: "
            + ", ".join(f"{n} {table}" for table, n in counts.items())
            + f"; {path.stat().st_size / 1e6:.0f} MB"
        )
        # As the gateway does at start and every hour: the planner's statistics.
        store = await SQLiteStore.open(path)
        await store.refresh_statistics()
        await store.close()
        end = START + timedelta(days=DAYS - 1)
        cases = [
            ("30 days, every language", analytics.Filters(START, end)),
            ("30 days, ko", analytics.Filters(START, end, "ko")),
            ("7 days, every language", analytics.Filters(START, START + timedelta(days=6))),
            # Days in a zone other than UTC: bucketed by their UTC boundaries in SQL.
            ("30 days, Asia/Seoul days", analytics.Filters(START, end, tz="Asia/Seoul")),
        ]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"full report (7 figures), {args.runs} runs each; load average {load}:")
        for label, filters in cases:
            timings = await time_report(path, filters, args.runs)
            print(
                f"  {label:26} p50 {statistics.median(timings):6.0f} ms"
                f"   p95 {percentile(timings, 95):6.0f} ms   max {max(timings):6.0f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
