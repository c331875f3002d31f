"""Store operations per second on SQLite and on PostgreSQL, in the same run (issue 10).

    .venv/app/bin/python bench/store.py                      # 200 chats, 20 at once
    .venv/app/bin/python bench/store.py --chats 50 --concurrency 5

Each chat goes the whole way through the store, as the gateway drives it: create, three
customer messages each answered by the bot (outbox item written and completed), escalate,
enqueue, assign (handoff and transition), an agent message, resolve, close, hand back to
the bot, a rating: 20 store calls. --concurrency chats run at once; SQLite is the
embedded default (one connection), PostgreSQL a throwaway server of its own
(stack/devservers.py), or the one in ASSISTANT_DATABASE_URL (never a command-line
argument: it holds a password), in a schema made for the run and dropped after it.

Prints, per backend: store calls per second, and the p50 / p95 time of one whole chat.
Client and servers share the machine, so the numbers include the client's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.agent.passwords import PasswordHasher
from handoff.conversation.models import Reply
from handoff.store.backends import open_stores
from handoff.store.interface import Handoffs, Store
from stack.devservers import PostgresServer
from stack.settings import Settings
from stack.shared_stores import DATABASE_VARIABLE, parse_database_url

CALLS_PER_CHAT = 20


async def one_chat(store: Store, handoffs: Handoffs, n: int) -> float:
    started = time.perf_counter()
    conversation, _ = await store.create_conversation(("ko", "ja", "en")[n % 3], {})
    for turn in range(3):
        item = (
            await store.add_customer_message(
                conversation.id, f"question {turn}", payload=None, client_id=f"{n}-{turn}"
            )
        ).item
        await store.add_replies(conversation.id, [Reply(f"answer {turn}")], completes=item)
    await store.transition(conversation.id, "escalate", {"reason": "requested"})
    handoff = await handoffs.enqueue(
        conversation.id, "requested", 1, conversation.language, None, "summary", {}
    )
    agent = f"agent{n % 20}"
    if not await handoffs.assign(handoff.id, agent):
        raise RuntimeError(f"chat {n} was taken by someone else")
    await store.transition(conversation.id, "assign", {"agent": agent})
    await store.add_message(conversation.id, "agent", "hello, I can help")
    await store.transition(conversation.id, "resolve", {"agent": agent})
    await handoffs.close(handoff.id, "resolved")
    await store.transition(conversation.id, "return_to_bot", {"ask_rating": True})
    await handoffs.add_rating(conversation.id, 5, handoff)
    return time.perf_counter() - started


async def measure(settings: Settings, chats: int, concurrency: int, schema: str | None) -> str:
    hasher = PasswordHasher()
    store, handoffs = await open_stores(settings, hasher, schema=schema)
    gate = asyncio.Semaphore(concurrency)

    async def limited(n: int) -> float:
        async with gate:
            return await one_chat(store, handoffs, n)

    try:
        started = time.perf_counter()
        times = await asyncio.gather(*(limited(n) for n in range(chats)))
        elapsed = time.perf_counter() - started
    finally:
        await store.close()
        hasher.close()
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"{chats * CALLS_PER_CHAT / elapsed:8.0f} calls/s   chat p50 "
        f"{statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
        f"({chats} chats, {concurrency} at once, {elapsed:.1f} s)"
    )


async def with_schema(url: str, chats: int, concurrency: int, folder: Path) -> str:
    """PostgreSQL in a schema of this run's own, dropped afterwards."""
    server = parse_database_url(url)
    assert server is not None
    schema = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password or None,
        database=server.database,
    )
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        settings = Settings(db_path=folder / "unused.sqlite3", database_url=url)
        return await measure(settings, chats, concurrency, schema)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        sqlite = asyncio.run(
            measure(Settings(db_path=folder / "db.sqlite3"), args.chats, args.concurrency, None)
        )
        print(f"sqlite      {sqlite}", flush=True)
        url = os.environ.get(DATABASE_VARIABLE, "")
        if url:
            postgres = asyncio.run(with_schema(url, args.chats, args.concurrency, folder))
        else:
            with PostgresServer() as server:
                postgres = asyncio.run(
                    with_schema(server.url, args.chats, args.concurrency, folder)
                )
        print(f"postgresql  {postgres}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
