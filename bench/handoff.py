"""Human handoff relay: customer <-> agent delivery latency, and exactly-once delivery.

    .venv/app/bin/python bench/handoff.py                      # 200 customers, 20 agents, 5 each way
    .venv/app/bin/python bench/handoff.py --customers 20 --agents 4 --messages 3
    .venv/app/bin/python bench/handoff.py --overlap            # both sides type at the same time
    .venv/app/bin/python bench/handoff.py --sizes 200,1000     # growth between queue sizes
    .venv/app/bin/python bench/handoff.py --shared --replicas 2            # scale-out
    .venv/app/bin/python bench/handoff.py --compare --shared --replicas 2  # issue 10

With --sizes, each size runs on a fresh stack, with --agents (default: size / 20, at
least 20) and --capacity (default: enough for every customer), and a last table shows
the time per enqueue and per accept and the relay p95 at each size, with the growth
factor from the first size (issue 15: from 200 to 1000 chats, <= 1.5x per enqueue and
per accept, <= 2x relay p95, nothing lost or duplicated).

It starts its own stack (Rasa, action server, gateway) on its own ports
(gateway 18280, Rasa 15205, actions 15255, or free ones if those are taken),
with a fresh SQLite database and the e2e tests' always-open business hours,
so the queue path is taken at any hour. Then:

1. --agents agents (ko/ja/en, --capacity chats each) are created with
   `python -m handoff agents add`, sign in and open the console websocket,
   so they count as online and receive frames.
2. --customers customers (ko, ja, en in turn) open a conversation and its
   websocket and ask for a person, at most --escalation-concurrency at once,
   so Rasa is not what gets measured.
3. The agents take chats from their queue (409 already_assigned: next one)
   until every customer is assigned.
4. Relay, the measured part: in every conversation at once, the customer
   sends a message over its websocket, timed until the agent's websocket gets
   it; then the agent answers with POST .../messages, timed until the
   customer's websocket gets it; --messages times each way. With --overlap
   both sides send their messages without waiting for each other. Each text
   carries a unique token, so every delivery is matched exactly.
5. Delivery check: each message must arrive exactly once on the other side,
   and be stored exactly once in the transcript (GET /api/conversations/{id}).

Scale-out (issue 10). Instead of SQLite, the stack can keep its state in PostgreSQL and
pass websocket frames through Redis (stack/shared_stores.py), and run --replicas gateways
on consecutive ports from the gateway's:

  --shared            throwaway PostgreSQL and Redis servers of this run's own
                      (stack/devservers.py), with a fresh database for every stack;
  --database-url URL  an existing PostgreSQL (the bench adds its agents bench-agent-NN
                      and its conversations there: give it a database of its own);
  --redis-url URL     an existing Redis.
                      With --shared, a URL given is used and only the other server is
                      started. A URL on a command line can be read by other users of
                      the machine (ps): prefer --shared, or a password used only here.
  --replicas N        gateways (default 1); more than one needs PostgreSQL and Redis.

Customer i talks to gateway i % N, and agent j signs in on gateway j % N and takes
the chats of customers on other gateways first, so that with two or more gateways
nearly every relay crosses from one gateway to another through Redis; a line
`cross-replica` says how many did. The stack's passwords stay out of the output (URLs
are printed redacted) and out of child processes' command lines (the launcher hands
settings over in the environment).

--compare runs, in the same invocation and with the same sizes, first the single
gateway on SQLite (the default run), then the shared configuration above; after both
blocks a last line gives the relay p95 of the second over the first, per direction,
against issue 10's goal (<= 1.5x), and OK or FAILED for lost and duplicated messages.

Prints each phase's rate (queued/s, accepted/s), p50/p95/p99 per direction,
messages per second, lost and duplicated messages, then OK or FAILED; exits 1 unless
nothing was lost or duplicated (and every customer got an agent); a p95 above the goal
of --compare is reported, not an exit status. All traffic stays on 127.0.0.1, every
phase has a time limit, and the conversations are resolved at the end. The clients run
on the same machine as the stack, so the numbers include their CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.devservers import DevServerError, PostgresServer, RedisServer
from stack.launcher import Stack, StackError, gateway_ports, port_is_free
from stack.settings import APP_VENV, PROJECT_ROOT, Settings
from stack.shared_stores import (
    SharedStoreError,
    describe,
    parse_database_url,
    parse_redis_url,
    redact_url,
)
from tests.e2e.isolated import LOOPBACK_CROWD

LANGUAGES = ("ko", "ja", "en")
ASK_PERSON = {"ko": "상담원 연결해 주세요", "ja": "人と話したい", "en": "talk to a human"}
CUSTOMER_SAYS = {
    "ko": "주문 상태 확인 부탁드려요",
    "ja": "注文の状況を確認してください",
    "en": "could you check my order status",
}
AGENT_SAYS = {
    "ko": "잠시만요, 확인해 보겠습니다",
    "ja": "少々お待ちください、確認いたします",
    "en": "one moment please, let me check",
}
AGENT_PASSWORD = "bench-handoff-password"
TOKEN = re.compile(r"\[(m-[0-9a-f]{16})\]")
C2A = "customer->agent"
A2C = "agent->customer"
# Issue 10: relay p95 across gateway replicas on PostgreSQL + Redis, at most this many
# times the single gateway's on SQLite, measured in the same run (--compare).
P95_RATIO_GOAL = 1.5

JsonDict = dict[str, Any]


# -- bookkeeping ---------------------------------------------------------------------


@dataclass
class Sent:
    """One relayed message, found again on the other side by its token."""

    token: str
    direction: str
    conversation_id: str
    sent_at: float = 0.0
    received_at: list[float] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    send_error: str = ""


@dataclass
class Ledger:
    sent: dict[str, Sent] = field(default_factory=dict)
    # A known token that arrived on the wrong side or in the wrong conversation.
    misrouted: int = 0
    closed_sockets: dict[str, int] = field(default_factory=lambda: {"customer": 0, "agent": 0})

    def register(self, direction: str, conversation_id: str, words: str) -> tuple[Sent, str]:
        token = f"m-{uuid.uuid4().hex[:16]}"
        sent = Sent(token, direction, conversation_id)
        self.sent[token] = sent
        return sent, f"{words} [{token}]"

    def receive(self, text: str, direction: str, conversation_id: str) -> None:
        match = TOKEN.search(text)
        if match is None:
            return
        sent = self.sent.get(match.group(1))
        if sent is None or sent.direction != direction or sent.conversation_id != conversation_id:
            self.misrouted += 1
            return
        sent.received_at.append(time.perf_counter())
        sent.arrived.set()

    def failed_send(self, token: str, reason: str) -> None:
        if token in self.sent:
            self.sent[token].send_error = reason
            self.sent[token].arrived.set()  # nothing is coming: stop waiting

    def of(self, direction: str) -> list[Sent]:
        return [s for s in self.sent.values() if s.direction == direction]


def parse_frame(raw: aiohttp.WSMessage) -> JsonDict | None:
    if raw.type != aiohttp.WSMsgType.TEXT:
        return None
    try:
        frame = json.loads(raw.data)
    except json.JSONDecodeError:
        return None
    return frame if isinstance(frame, dict) else None


async def read_frames(
    ws: aiohttp.ClientWebSocketResponse, on_frame: Callable[[JsonDict], None]
) -> None:
    async for raw in ws:
        frame = parse_frame(raw)
        if frame is not None:
            on_frame(frame)
    # The loop ends only when the socket closes; we close ours by cancelling this task first.
    on_frame({"type": "closed by server", "code": ws.close_code})


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    body: JsonDict | None = None,
) -> tuple[int, Any]:
    async with session.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return r.status, text


# -- the two sides -------------------------------------------------------------------


class Customer:
    """A widget: one conversation, its websocket, and what arrived on it, all on the
    gateway `replica` (its index) at `base_url`."""

    def __init__(
        self,
        index: int,
        session: aiohttp.ClientSession,
        base_url: str,
        ledger: Ledger,
        replica: int = 0,
    ) -> None:
        self.index = index
        self.replica = replica
        self.language = LANGUAGES[index % len(LANGUAGES)]
        self.session = session
        self.base_url = base_url
        self.ledger = ledger
        self.conversation_id = ""
        self.token = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.state = ""  # as the websocket last said
        self.escalation = ""  # what asking for a person led to

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/conversations/{self.conversation_id}"

    async def open(self) -> None:
        body = {"language": self.language, "customer": {"name": f"Bench {self.index}"}}
        async with self.session.post(f"{self.base_url}/api/conversations", json=body) as r:
            data = await r.json()
            if r.status != 201:
                raise RuntimeError(f"create conversation: HTTP {r.status} {data}")
        self.conversation_id, self.token = data["conversation_id"], data["token"]
        self.ws = await self.session.ws_connect(f"{self.url}/ws")
        await self.ws.send_json({"type": "hello", "token": self.token, "last_seq": 0})
        ready = await self.ws.receive_json(timeout=10)
        if ready.get("type") != "ready":
            raise RuntimeError(f"customer websocket: {ready}")
        self.reader = asyncio.create_task(read_frames(self.ws, self.on_frame))

    def on_frame(self, frame: JsonDict) -> None:
        kind = frame.get("type")
        if kind == "state":
            self.state = str(frame.get("state"))
        elif kind == "message" and frame.get("role") == "agent":
            self.ledger.receive(str(frame.get("text", "")), A2C, self.conversation_id)
        elif kind == "error":
            self.ledger.failed_send(str(frame.get("client_id")), f"error frame: {frame}")
        elif kind == "closed by server":
            self.ledger.closed_sockets["customer"] += 1

    async def ask_for_person(self) -> str:
        """Over HTTP, which answers once the whole turn (escalation included) is done."""
        status, body = await call(
            self.session,
            "POST",
            f"{self.url}/messages",
            self.token,
            {"text": ASK_PERSON[self.language]},
        )
        if status == 200 and isinstance(body, dict):
            return str(body.get("state"))
        return f"HTTP {status}"

    async def say(self, words: str) -> Sent:
        assert self.ws is not None
        sent, text = self.ledger.register(C2A, self.conversation_id, words)
        sent.sent_at = time.perf_counter()
        try:
            await self.ws.send_json({"type": "message", "client_id": sent.token, "text": text})
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            self.ledger.failed_send(sent.token, repr(exc))
        return sent

    async def transcript(self) -> list[JsonDict]:
        status, body = await call(self.session, "GET", self.url, self.token)
        if status != 200 or not isinstance(body, dict):
            raise RuntimeError(f"transcript of {self.conversation_id}: HTTP {status} {body}")
        return list(body["messages"])

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


class Agent:
    """A console: signed in, websocket open, and the chats it took, all on the gateway
    `replica` (its index) at `base_url`."""

    def __init__(
        self,
        username: str,
        session: aiohttp.ClientSession,
        base_url: str,
        ledger: Ledger,
        replica: int = 0,
    ) -> None:
        self.username = username
        self.replica = replica
        self.session = session
        self.base_url = base_url
        self.ledger = ledger
        self.token = ""
        self.capacity = 0
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.chats: list[str] = []

    async def call(self, method: str, path: str, body: JsonDict | None = None) -> tuple[int, Any]:
        return await call(self.session, method, f"{self.base_url}{path}", self.token, body)

    async def sign_in(self) -> None:
        credentials = {"username": self.username, "password": AGENT_PASSWORD}
        for _ in range(30):  # the sign-in guard answers 429 `busy` to a crowd: wait, retry
            async with self.session.post(f"{self.base_url}/api/agent/login", json=credentials) as r:
                data = await r.json()
                retry_after = float(r.headers.get("Retry-After", "1"))
            if r.status != 429:
                break
            await asyncio.sleep(retry_after)
        if r.status != 200:
            raise RuntimeError(f"login {self.username}: HTTP {r.status} {data}")
        self.token, self.capacity = data["token"], int(data["agent"]["capacity"])
        self.ws = await self.session.ws_connect(f"{self.base_url}/api/agent/ws")
        await self.ws.send_json({"type": "hello", "token": self.token})
        ready = await self.ws.receive_json(timeout=10)
        if ready.get("type") != "ready":
            raise RuntimeError(f"agent websocket of {self.username}: {ready}")
        self.reader = asyncio.create_task(read_frames(self.ws, self.on_frame))

    def on_frame(self, frame: JsonDict) -> None:
        if frame.get("type") == "message" and frame.get("role") == "customer":
            text, conversation_id = str(frame.get("text", "")), str(frame.get("conversation_id"))
            self.ledger.receive(text, C2A, conversation_id)
        elif frame.get("type") == "closed by server":
            self.ledger.closed_sockets["agent"] += 1

    async def say(self, conversation_id: str, words: str) -> Sent:
        sent, text = self.ledger.register(A2C, conversation_id, words)
        sent.sent_at = time.perf_counter()
        try:
            status, body = await self.call(
                "POST", f"/api/agent/conversations/{conversation_id}/messages", {"text": text}
            )
        except aiohttp.ClientError as exc:
            status, body = 0, repr(exc)
        if status != 201:
            self.ledger.failed_send(sent.token, f"HTTP {status}: {body}")
        return sent

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


# -- phases --------------------------------------------------------------------------


async def escalate_all(
    customers: list[Customer], concurrency: int, timeout: float
) -> tuple[list[Customer], dict[str, int], float]:
    """Open every conversation and ask for a person; returns the queued ones.

    The first customer of each language goes alone, to warm Rasa and the
    action server up: cold, a burst of escalations can outlast the gateway's
    Rasa time-out."""
    gate = asyncio.Semaphore(concurrency)
    outcomes: dict[str, int] = {}

    async def one(customer: Customer) -> None:
        async with gate:
            try:
                async with asyncio.timeout(timeout):
                    await customer.open()
                    outcome = await customer.ask_for_person()
            except (TimeoutError, aiohttp.ClientError, RuntimeError) as exc:
                outcome = f"error {exc.__class__.__name__}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        customer.escalation = outcome

    started = time.perf_counter()
    warm_up = customers[: len(LANGUAGES)]
    for customer in warm_up:
        await one(customer)
    await asyncio.gather(*(one(c) for c in customers[len(warm_up) :]))
    queued = [c for c in customers if c.escalation == "queued"]
    return queued, outcomes, time.perf_counter() - started


async def take_chats(
    agent: Agent,
    spread: float,
    waiting: dict[str, int],
    assigned: dict[str, str],
    counts: dict[str, int],
) -> None:
    """Accept from the queue until full or nothing we wait for is left. `waiting`:
    conversation id -> the gateway its customer is on; those on another gateway than
    the agent's come first (with one gateway, the order is the queue's)."""
    while len(agent.chats) < agent.capacity and waiting.keys() - assigned.keys():
        status, items = await agent.call("GET", "/api/agent/queue")
        if status != 200:
            counts[f"queue HTTP {status}"] = counts.get(f"queue HTTP {status}", 0) + 1
            await asyncio.sleep(0.5)
            continue
        open_ids = [i["conversation_id"] for i in items if i["conversation_id"] in waiting]
        open_ids = [c for c in open_ids if c not in assigned]
        if not open_ids:
            await asyncio.sleep(0.2)
            continue
        start = int(spread * len(open_ids))  # agents start at different places in the queue
        in_turn = open_ids[start:] + open_ids[:start]
        in_turn.sort(key=lambda c: waiting[c] == agent.replica)  # stable: the rest keep turn
        for conversation_id in in_turn:
            if len(agent.chats) >= agent.capacity or conversation_id in assigned:
                continue
            status, body = await agent.call(
                "POST", f"/api/agent/conversations/{conversation_id}/accept"
            )
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            outcome = "accepted" if status == 200 else f"{status} {code or body}"
            counts[outcome] = counts.get(outcome, 0) + 1
            if status == 200:
                assigned[conversation_id] = agent.username
                agent.chats.append(conversation_id)
            elif code == "at_capacity":
                return


async def assign_all(
    agents: list[Agent], customers: list[Customer], timeout: float
) -> tuple[dict[str, str], dict[str, int], float]:
    """conversation id -> agent username, accept outcomes, seconds taken."""
    waiting = {c.conversation_id: c.replica for c in customers}
    assigned: dict[str, str] = {}
    counts: dict[str, int] = {}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                *(
                    take_chats(a, i / len(agents), waiting, assigned, counts)
                    for i, a in enumerate(agents)
                )
            )
    except TimeoutError:
        counts["phase timed out"] = 1
    return assigned, counts, time.perf_counter() - started


async def deliver(send: Awaitable[Sent], wait: float) -> None:
    sent = await send
    # On time-out it counts as lost, unless it turns up before the check.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sent.arrived.wait(), wait)


async def converse(
    customer: Customer, agent: Agent, messages: int, overlap: bool, spread: float = 0.0
) -> None:
    """The customer speaks, the agent answers; each waits for delivery before going on.
    With `spread`, the chat starts at a random moment within that many seconds."""
    cid, language, wait = customer.conversation_id, customer.language, 15.0
    if spread > 0:
        await asyncio.sleep(random.uniform(0, spread))

    async def customer_turn(i: int) -> None:
        await deliver(customer.say(f"{CUSTOMER_SAYS[language]} {i + 1}"), wait)

    async def agent_turn(i: int) -> None:
        await deliver(agent.say(cid, f"{AGENT_SAYS[language]} {i + 1}"), wait)

    if not overlap:
        for i in range(messages):
            await customer_turn(i)
            await agent_turn(i)
        return

    async def each(turn: Callable[[int], Awaitable[None]]) -> None:
        for i in range(messages):
            await turn(i)

    await asyncio.gather(each(customer_turn), each(agent_turn))


async def relay(
    pairs: list[tuple[Customer, Agent]],
    messages: int,
    overlap: bool,
    timeout: float,
    spread: float = 0.0,
) -> tuple[float, bool]:
    """Seconds the relay phase took, and whether it hit its time limit."""
    started = time.perf_counter()
    timed_out = False
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(converse(c, a, messages, overlap, spread) for c, a in pairs))
    except TimeoutError:
        timed_out = True
    return time.perf_counter() - started, timed_out


async def stored_counts(customers: Iterable[Customer], concurrency: int) -> dict[str, int]:
    """token -> times it is stored in its transcript with the right role."""
    role = {C2A: "customer", A2C: "agent"}
    counts: dict[str, int] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(customer: Customer) -> None:
        try:
            async with gate, asyncio.timeout(30):
                messages = await customer.transcript()
        except (TimeoutError, aiohttp.ClientError, RuntimeError) as exc:
            say(f"transcript of {customer.conversation_id} unreadable, counted missing: {exc!r}")
            return
        for message in messages:
            match = TOKEN.search(str(message.get("text", "")))
            sent = customer.ledger.sent.get(match.group(1)) if match else None
            if sent is not None and message.get("role") == role[sent.direction]:
                counts[sent.token] = counts.get(sent.token, 0) + 1

    await asyncio.gather(*(one(c) for c in customers))
    return counts


async def resolve_all(pairs: list[tuple[Customer, Agent]], concurrency: int) -> dict[str, int]:
    gate = asyncio.Semaphore(concurrency)
    outcomes: dict[str, int] = {}

    async def one(customer: Customer, agent: Agent) -> None:
        path = f"/api/agent/conversations/{customer.conversation_id}/resolve"
        async with gate:
            try:
                async with asyncio.timeout(30):
                    status, _ = await agent.call("POST", path)
                outcome = str(status)
            except (TimeoutError, aiohttp.ClientError) as exc:
                outcome = exc.__class__.__name__
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    await asyncio.gather(*(one(c, a) for c, a in pairs))
    return outcomes


# -- report --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_line(label: str, sent: list[Sent]) -> str:
    ms = [(s.received_at[0] - s.sent_at) * 1000 for s in sent if s.received_at]
    return (
        f"{label:<16} n={len(ms):<5} p50={percentile(ms, 50):7.1f} ms  "
        f"p95={percentile(ms, 95):7.1f} ms  p99={percentile(ms, 99):7.1f} ms  "
        f"mean={statistics.fmean(ms or [0]):7.1f} ms  max={max(ms or [0]):7.1f} ms"
    )


@dataclass
class Delivery:
    sent: int
    lost: int
    duplicated: int
    send_errors: int
    misrouted: int
    stored_missing: int
    stored_duplicated: int

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.misrouted
            or self.stored_missing
            or self.stored_duplicated
        )


def check_delivery(ledger: Ledger, stored: dict[str, int]) -> Delivery:
    sent = list(ledger.sent.values())
    return Delivery(
        sent=len(sent),
        lost=sum(1 for s in sent if not s.received_at),
        duplicated=sum(1 for s in sent if len(s.received_at) > 1),
        send_errors=sum(1 for s in sent if s.send_error),
        misrouted=ledger.misrouted,
        stored_missing=sum(1 for s in sent if stored.get(s.token, 0) == 0),
        stored_duplicated=sum(1 for s in sent if stored.get(s.token, 0) > 1),
    )


def print_examples(ledger: Ledger, limit: int = 5) -> None:
    bad = [s for s in ledger.sent.values() if len(s.received_at) != 1 or s.send_error]
    for s in bad[:limit]:
        print(
            f"  e.g. {s.direction} {s.conversation_id} {s.token}: received "
            f"{len(s.received_at)}x {' '.join(s.send_error.split())[:160]}"
        )


# -- the run -------------------------------------------------------------------------


@dataclass
class Options:
    sizes: list[int]
    customers: int
    agents: int
    messages: int
    capacity: int
    escalation_concurrency: int
    overlap: bool
    relay_timeout: float
    spread: float = 0.0
    # Scale-out (issue 10): URLs given (they hold passwords: never printed unredacted),
    # throwaway servers for what is not given (--shared), gateways, and --compare.
    database_url: str = field(default="", repr=False)
    redis_url: str = field(default="", repr=False)
    start_servers: bool = False
    replicas: int = 1
    compare: bool = False

    @property
    def scaled_out(self) -> bool:
        """Whether a run on PostgreSQL / Redis / several gateways was asked for."""
        return bool(self.database_url or self.redis_url or self.start_servers) or (
            self.replicas > 1
        )


@dataclass(frozen=True)
class Backend:
    """Where one stack keeps its state, and how many gateways it runs. The default: one
    gateway, SQLite, the in-process realtime hub."""

    database_url: str = field(default="", repr=False)
    redis_url: str = field(default="", repr=False)
    replicas: int = 1

    @property
    def label(self) -> str:
        stores = ("PostgreSQL" if self.database_url else "SQLite") + (
            " + Redis" if self.redis_url else ""
        )
        gateways = "one gateway" if self.replicas == 1 else f"{self.replicas} gateway replicas"
        return f"{gateways} on {stores}"


class SharedStores:
    """PostgreSQL and Redis for the scaled-out runs: the URLs given, and throwaway servers
    (stack/devservers.py) for what is not given when --shared asks for them. Create it on
    the main thread: a throwaway server stops with the thread that started it."""

    def __init__(self, options: Options, servers: contextlib.ExitStack) -> None:
        self.database_url, self.redis_url = options.database_url, options.redis_url
        self.replicas = options.replicas
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        if options.start_servers and not self.database_url:
            self.postgres = servers.enter_context(PostgresServer())
            say(f"throwaway PostgreSQL {redact_url(self.postgres.url)}")
        if options.start_servers and not self.redis_url:
            self.redis = servers.enter_context(RedisServer())
            say(f"throwaway Redis {redact_url(self.redis.url)}")
        self.stacks = 0

    def backend(self) -> Backend:
        """For the next stack: on a throwaway server, a fresh database (and a Redis
        database number) of its own, as the SQLite runs get a fresh file."""
        self.stacks += 1
        database_url, redis_url = self.database_url, self.redis_url
        if self.postgres is not None:
            database_url = self.postgres.create_database(f"bench_{uuid.uuid4().hex[:12]}")
        if self.redis is not None:
            redis_url = redis_database(self.redis.url, self.stacks % REDIS_DATABASES)
        return Backend(database_url, redis_url, self.replicas)


REDIS_DATABASES = 16  # redis-server's default `databases`


def redis_database(url: str, number: int) -> str:
    """The same Redis URL with another database number."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


async def bench(
    base_urls: list[str], usernames: list[str], options: Options, result: SizeResult
) -> int:
    """One run against the gateways at `base_urls`: customer i on gateway i % N, agent j
    on gateway j % N (taking other gateways' customers first, see take_chats)."""
    ledger = Ledger()
    connector = aiohttp.TCPConnector(limit=0)  # every websocket holds a connection
    timeout = aiohttp.ClientTimeout(total=120)
    n = len(base_urls)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        agents = [
            Agent(u, session, base_urls[j % n], ledger, j % n) for j, u in enumerate(usernames)
        ]
        customers = [
            Customer(i, session, base_urls[i % n], ledger, i % n) for i in range(options.customers)
        ]
        try:
            return await run_phases(agents, customers, ledger, options, result)
        finally:
            await asyncio.gather(*(c.close() for c in customers), *(a.close() for a in agents))


async def sign_in_all(agents: list[Agent], concurrency: int = 8) -> None:
    """A few at a time: sign-ins hash passwords one by one (handoff/agent/login_guard.py)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(agent: Agent) -> None:
        async with gate:
            await agent.sign_in()

    await asyncio.gather(*(one(a) for a in agents))


@dataclass
class SizeResult:
    """One size's numbers, for the growth table."""

    customers: int
    agents: int
    queued: int = 0
    queue_seconds: float = 0.0
    accepted: int = 0
    accept_seconds: float = 0.0
    p95: dict[str, float] = field(default_factory=dict)
    lost: int = 0
    duplicated: int = 0
    ok: bool = False
    # The machine's 1-minute load average as the relay began (others share the cores).
    load_at_relay: float = math.nan

    @property
    def ms_per_enqueue(self) -> float:
        return 1000 * self.queue_seconds / self.queued if self.queued else float("nan")

    @property
    def ms_per_accept(self) -> float:
        return 1000 * self.accept_seconds / self.accepted if self.accepted else float("nan")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}/s" if seconds > 0 else "-"


async def run_phases(
    agents: list[Agent],
    customers: list[Customer],
    ledger: Ledger,
    options: Options,
    result: SizeResult,
) -> int:
    started = time.perf_counter()
    await sign_in_all(agents)
    say(f"{len(agents)} agents signed in, consoles open ({time.perf_counter() - started:.1f} s)")

    queued, outcomes, took = await escalate_all(customers, options.escalation_concurrency, 600.0)
    result.queued, result.queue_seconds = len(queued), took
    print(
        f"queued             {len(queued)}/{len(customers)} customers in {took:.1f} s = "
        f"{rate(len(queued), took)} ({result.ms_per_enqueue:.1f} ms each)  {outcomes}",
        flush=True,
    )

    assigned, counts, took = await assign_all(agents, queued, 600.0)
    result.accepted, result.accept_seconds = len(assigned), took
    print(
        f"accepted           {len(assigned)}/{len(queued)} chats in {took:.1f} s = "
        f"{rate(len(assigned), took)} ({result.ms_per_accept:.1f} ms each)  {counts}",
        flush=True,
    )

    by_name = {a.username: a for a in agents}
    pairs = [
        (c, by_name[assigned[c.conversation_id]]) for c in queued if c.conversation_id in assigned
    ]
    if len({c.replica for c in customers} | {a.replica for a in agents}) > 1:
        crossing = sum(1 for c, a in pairs if c.replica != a.replica)
        print(
            f"cross-replica      {crossing} of {len(pairs)} chats have customer and agent "
            "on different gateways",
            flush=True,
        )
    mode = "overlapping" if options.overlap else "ping-pong"
    result.load_at_relay = os.getloadavg()[0]
    say(f"relay: {options.messages} messages each way in {len(pairs)} chats ({mode}) ...")
    elapsed, timed_out = await relay(
        pairs, options.messages, options.overlap, options.relay_timeout, options.spread
    )
    await asyncio.sleep(2.0)  # late arrivals and duplicates still count
    stored = await stored_counts([c for c, _ in pairs], 20)
    delivery = check_delivery(ledger, stored)

    complete = len(pairs) == len(customers) and not timed_out
    for direction in (C2A, A2C):
        ms = [(s.received_at[0] - s.sent_at) * 1000 for s in ledger.of(direction) if s.received_at]
        result.p95[direction] = percentile(ms, 95)
    result.lost, result.duplicated = delivery.lost, delivery.duplicated
    result.ok = delivery.ok and complete
    print_report(ledger, stored, delivery, elapsed, timed_out, len(pairs), len(customers))
    try:
        say(f"resolved: {await resolve_all(pairs, 10)}")
    except Exception as exc:  # the numbers above stand whatever happens here
        say(f"resolving failed: {exc!r}")
    return 0 if delivery.ok and complete else 1


def direction_line(direction: str, sent: list[Sent], stored: dict[str, int]) -> str:
    return (
        f"  {direction:<16} sent={len(sent)} delivered={sum(1 for s in sent if s.received_at)} "
        f"lost={sum(1 for s in sent if not s.received_at)} "
        f"duplicated={sum(1 for s in sent if len(s.received_at) > 1)} "
        f"send_errors={sum(1 for s in sent if s.send_error)} "
        f"stored={sum(1 for s in sent if stored.get(s.token))}"
    )


def print_report(
    ledger: Ledger,
    stored: dict[str, int],
    d: Delivery,
    elapsed: float,
    timed_out: bool,
    chats: int,
    customers: int,
) -> None:
    delivered = sum(1 for s in ledger.sent.values() if s.received_at)
    print(f"chats relayed      {chats} of {customers} customers")
    print(
        f"relay phase        {d.sent} messages sent, {delivered} delivered in {elapsed:.2f} s = "
        f"{delivered / elapsed if elapsed else 0:.1f} msg/s"
        + ("  (hit its time limit)" if timed_out else "")
    )
    print(latency_line(C2A, ledger.of(C2A)))
    print(latency_line(A2C, ledger.of(A2C)))
    for direction in (C2A, A2C):
        print(direction_line(direction, ledger.of(direction), stored))
    print(
        f"websocket delivery lost={d.lost} duplicated={d.duplicated} misrouted={d.misrouted} "
        f"send_errors={d.send_errors}"
    )
    print(f"stored transcript  missing={d.stored_missing} duplicated={d.stored_duplicated}")
    closed = ledger.closed_sockets
    print(f"sockets the server closed: customer={closed['customer']} agent={closed['agent']}")
    print_examples(ledger)
    verdict = "OK" if d.ok else "FAILED"
    if chats < customers or timed_out:
        verdict += " (incomplete run: not every customer was relayed)"
    print(verdict, flush=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the stack -----------------------------------------------------------------------


def pick_ports(host: str, preferred: int, taken: set[int], count: int = 1) -> int:
    """The first of `count` free ports in a row (gateway replicas take consecutive ones):
    `preferred` when it and those after it are free, else wherever the system says."""
    first = preferred
    while True:
        wanted = range(first, first + count)
        if wanted.stop <= 65536 and all(p not in taken and port_is_free(host, p) for p in wanted):
            return first
        with socket.socket() as probe:
            probe.bind((host, 0))
            first = int(probe.getsockname()[1])


def bench_settings(state_dir: Path, backend: Backend | None = None) -> Settings:
    """Ports of the bench's own, state in `state_dir`, or in the backend's PostgreSQL
    (the environment's ASSISTANT_DATABASE_URL and co. are not used: the backend says)."""
    backend = backend or Backend()
    defaults = Settings.from_env()
    taken: set[int] = set()
    gateway = pick_ports(defaults.host, 18280, taken, backend.replicas)
    taken.update(range(gateway, gateway + backend.replicas))
    rasa = pick_ports(defaults.host, 15205, taken)
    taken.add(rasa)
    action = pick_ports(defaults.host, 15255, taken)
    return defaults.replace(
        gateway_port=gateway,
        rasa_port=rasa,
        action_port=action,
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        gateway_replicas=backend.replicas,
        db_path=state_dir / "handoff.sqlite3",
        rasa_tracker_db=state_dir / "trackers.sqlite3",
        run_dir=state_dir / "run",
        unanswered_path=state_dir / "unanswered.jsonl",
        coverage_path=PROJECT_ROOT / "tests" / "e2e" / "coverage_always_open.yml",
        log_dir=PROJECT_ROOT / "var" / "log" / "bench",
        # every customer is on 127.0.0.1, and --overlap sends without pausing
        **LOOPBACK_CROWD,
        messages_per_conversation_per_minute=0,
    )


def add_agent(settings: Settings, username: str, capacity: int) -> None:
    command = [str(APP_VENV / "bin" / "python"), "-m", "handoff", "agents", "add", username]
    command += ["--languages", "ko,ja,en", "--capacity", str(capacity)]
    env = {
        **os.environ,
        **settings.to_env(),
        "AGENT_PASSWORD": AGENT_PASSWORD,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=60)
    if done.returncode:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise subprocess.CalledProcessError(done.returncode, command, stderr=" ".join(tail))


def create_agents(settings: Settings, count: int, capacity: int) -> list[str]:
    """With the command line, as people do; the first one alone, as it creates the schema."""
    usernames = [f"bench-agent-{i:02d}" for i in range(count)]
    add_agent(settings, usernames[0], capacity)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda name: add_agent(settings, name, capacity), usernames[1:]))
    return usernames


def parse_options() -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument(
        "--sizes",
        default="",
        help="comma-separated customer counts, one fresh stack each, e.g. 200,1000,2000",
    )
    parser.add_argument("--agents", type=int, default=0, help="default: customers / 20, >= 20")
    parser.add_argument("--messages", type=int, default=5, help="messages each way per chat")
    parser.add_argument(
        "--capacity", type=int, default=0, help="chats per agent (default: enough for all)"
    )
    parser.add_argument("--escalation-concurrency", type=int, default=20)
    parser.add_argument(
        "--overlap", action="store_true", help="customer and agent send without taking turns"
    )
    parser.add_argument("--relay-timeout", type=float, default=180.0, help="seconds")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="relay: each chat starts at a random moment within this many seconds,\n"
        "given for the first size and scaled with the others (the same message rate);\n"
        "default 0: every chat at once, a burst, whose latency grows with the chats",
    )
    scale = parser.add_argument_group("scale-out (issue 10)")
    scale.add_argument(
        "--shared",
        action="store_true",
        help="throwaway PostgreSQL and Redis servers for this run\n"
        "(only for what --database-url / --redis-url do not give)",
    )
    scale.add_argument(
        "--database-url",
        default="",
        metavar="URL",
        help="an existing PostgreSQL, postgresql://user:password@host:5432/database\n"
        "(a command line can be read by other users: prefer --shared)",
    )
    scale.add_argument(
        "--redis-url",
        default="",
        metavar="URL",
        help="an existing Redis, redis://:password@host:6379/0",
    )
    scale.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="gateways on consecutive ports (default 1); more need PostgreSQL and Redis",
    )
    scale.add_argument(
        "--compare",
        action="store_true",
        help="first one gateway on SQLite, then the above, same sizes; then the p95 ratio",
    )
    args = parser.parse_args()
    try:
        sizes = [int(v) for v in args.sizes.split(",") if v.strip()] or [args.customers]
    except ValueError:
        parser.error("--sizes takes comma-separated numbers, e.g. 200,1000")
    for flag, parse, url in (
        ("--database-url", parse_database_url, args.database_url),
        ("--redis-url", parse_redis_url, args.redis_url),
    ):
        try:
            parse(url)
        except SharedStoreError as exc:  # its message holds no password
            parser.error(f"{flag}: {exc}")
    has_postgres = args.shared or bool(args.database_url)
    has_redis = args.shared or bool(args.redis_url)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.replicas > 1 and not (has_postgres and has_redis):
        parser.error(
            f"--replicas {args.replicas}: gateway replicas share PostgreSQL and Redis; add "
            "--shared (throwaway servers), or --database-url and --redis-url"
        )
    if args.compare and not (has_postgres or has_redis):
        parser.error(
            "--compare needs something to compare with SQLite: --shared --replicas 2, "
            "or --database-url / --redis-url"
        )
    if args.compare and len(sizes) > 1:
        parser.error("--compare runs one size (--customers), not --sizes")
    if min(sizes) < 1 or args.agents < 0 or args.capacity < 0 or args.messages < 1:
        parser.error("sizes and --messages must be at least 1")
    for size in sizes:
        agents = args.agents or max(20, size // 20)
        if args.capacity and agents * args.capacity < size:
            parser.error(f"--agents x --capacity must be at least {size} customers")
    return Options(
        sizes=sizes,
        customers=sizes[0],
        agents=args.agents,
        messages=args.messages,
        capacity=args.capacity,
        escalation_concurrency=args.escalation_concurrency,
        overlap=args.overlap,
        relay_timeout=args.relay_timeout,
        spread=args.spread,
        database_url=args.database_url,
        redis_url=args.redis_url,
        start_servers=args.shared,
        replicas=args.replicas,
        compare=args.compare,
    )


def for_size(options: Options, size: int) -> Options:
    agents = options.agents or max(20, size // 20)
    capacity = options.capacity or -(-size // agents)
    spread = options.spread * size / options.sizes[0]  # the same message rate at every size
    return dataclasses.replace(
        options, customers=size, agents=agents, capacity=capacity, spread=spread
    )


def main() -> int:
    options = parse_options()
    with contextlib.ExitStack() as servers:
        shared = None
        if options.scaled_out:
            try:
                shared = SharedStores(options, servers)
            except DevServerError as exc:
                say(f"error: {exc}")
                return 1
        if options.compare:
            assert shared is not None
            return compare(options, shared)
        results: list[SizeResult] = []
        status = 0
        for size in options.sizes:
            backend = shared.backend() if shared is not None else Backend()
            size_status, result = run_size(options, size, backend, labelled=shared is not None)
            status |= size_status
            results.append(result)
        if len(results) > 1:
            print_growth(results)
        return status


def run_size(
    options: Options, size: int, backend: Backend, labelled: bool
) -> tuple[int, SizeResult]:
    """One size on a fresh stack: its exit status and numbers. `labelled`: the header
    names the backend (the default run's header stays as it always was)."""
    sized = for_size(options, size)
    spread = f", relay spread over {sized.spread:g} s" if sized.spread else ""
    where = f", {backend.label}" if labelled else ""
    print(
        f"== {size} customers, {sized.agents} agents x {sized.capacity} chats{spread}{where} ==",
        flush=True,
    )
    result = SizeResult(customers=size, agents=sized.agents)
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as state_dir:
        status = run_stack(bench_settings(Path(state_dir), backend), sized, result)
    return status, result


def compare(options: Options, shared: SharedStores) -> int:
    """Issue 10: the single gateway on SQLite, then the scaled-out stack, same sizes."""
    size = options.sizes[0]
    baseline = Backend()
    scaled = shared.backend()
    base_status, base = run_size(options, size, baseline, labelled=True)
    scaled_status, result = run_size(options, size, scaled, labelled=True)
    print_comparison(base, result, baseline.label, scaled.label)
    return base_status | scaled_status


def print_comparison(base: SizeResult, scaled: SizeResult, base_label: str, label: str) -> None:
    """One line: relay p95 of the scaled-out run over the baseline's, per direction,
    against the goal, and the scaled-out run's lost and duplicated messages."""
    ratios = []
    for direction in (C2A, A2C):
        ours, theirs = scaled.p95.get(direction, math.nan), base.p95.get(direction, math.nan)
        ratio = ours / theirs if theirs > 0 else math.nan
        verdict = "OK" if ratio <= P95_RATIO_GOAL else "FAILED"  # nan: FAILED
        ratios.append(f"{direction} {ratio:.2f}x ({ours:.1f} / {theirs:.1f} ms) {verdict}")
    exact = "OK" if scaled.lost == 0 and scaled.duplicated == 0 else "FAILED"
    print(
        f"{label} vs {base_label}: relay p95 {', '.join(ratios)} "
        f"(goal <= {P95_RATIO_GOAL:g}x); lost={scaled.lost} duplicated={scaled.duplicated} "
        f"{exact}; load average as the relays began {scaled.load_at_relay:.2f} vs "
        f"{base.load_at_relay:.2f} ({os.cpu_count()} cores)",
        flush=True,
    )


def growth(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base > 0 and math.isfinite(value / base) else "   - "


def print_growth(results: list[SizeResult]) -> None:
    """Per size: time per enqueue / accept and relay p95, and growth from the first size."""
    base = results[0]
    print(f"growth from {base.customers} customers (issue 15: <= 1.5x per enqueue/accept at 1000,")
    print("<= 2x relay p95, 0 lost, 0 duplicated)")
    print(
        f"{'customers':>9} {'agents':>6} {'enqueue ms':>10} {'':>6} {'accept ms':>10} {'':>6} "
        f"{'c->a p95':>9} {'':>6} {'a->c p95':>9} {'':>6} {'lost':>5} {'dup':>4}"
    )
    for r in results:
        c2a, a2c = r.p95.get(C2A, float("nan")), r.p95.get(A2C, float("nan"))
        print(
            f"{r.customers:>9} {r.agents:>6} "
            f"{r.ms_per_enqueue:>10.1f} {growth(r.ms_per_enqueue, base.ms_per_enqueue):>6} "
            f"{r.ms_per_accept:>10.1f} {growth(r.ms_per_accept, base.ms_per_accept):>6} "
            f"{c2a:>9.1f} {growth(c2a, base.p95.get(C2A, 0.0)):>6} "
            f"{a2c:>9.1f} {growth(a2c, base.p95.get(A2C, 0.0)):>6} "
            f"{r.lost:>5} {r.duplicated:>4}" + ("" if r.ok else "  FAILED"),
            flush=True,
        )


def run_stack(settings: Settings, options: Options, result: SizeResult) -> int:
    with Stack(settings) as stack:
        urls = [f"http://{settings.host}:{port}" for port in gateway_ports(stack.settings)]
        say(f"creating {options.agents} agents, starting a stack on {' '.join(urls)} ...")
        shared = settings.database_url or settings.redis_url
        try:
            if shared:
                say(f"state: {describe(stack.settings)}")  # passwords redacted
                stack.check_shared_stores()  # before `agents add` writes there
            usernames = create_agents(stack.settings, options.agents, options.capacity)
            stack.start()
        except (StackError, subprocess.CalledProcessError) as exc:
            say(f"error: {exc} {getattr(exc, 'stderr', '') or ''}")
            return 1
        return asyncio.run(bench(urls, usernames, options, result))


if __name__ == "__main__":
    sys.exit(main())
