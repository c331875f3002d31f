"""The whole product on PostgreSQL and Redis: with ASSISTANT_DATABASE_URL set, the gateway
keeps conversations, messages, agents and handoffs there (not in var/), the agents command
line writes there, a gateway killed with kill -9 finds everything again, and the
supervisor's report reads it; with ASSISTANT_REDIS_URL set, every frame for a websocket
goes through Redis (what lets gateways on other machines reach it).

One stack (all programs) on this test run's throwaway servers (tests/conftest.py), in a
PostgreSQL database of its own, so that other tests' rows cannot be counted here."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from redis import asyncio as redis_asyncio

from handoff.realtime.redis_hub import DEFAULT_PREFIX, shard_stream
from kb_index.articles import Article, load_kb
from stack.devservers import PostgresServer, RedisServer
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.client import (
    AgentClient,
    Customer,
    accepted,
    agent_socket,
    handed_to,
    next_frame,
    queue_brings,
    say_until_acknowledged,
)
from tests.e2e.isolated import consecutive_free_ports, isolated_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "pg-agent-password-1"
QUESTIONS = {
    "ko": "배송 얼마나 걸려요?",
    "ja": "届くまで何日かかりますか",
    "en": "how long does delivery take",
}
ASK_FOR_PERSON = {
    "ko": "상담원 연결해 주세요",
    "ja": "オペレーターと話したい",
    "en": "talk to a human",
}


def _add(settings: Settings, username: str, *flags: str) -> None:
    """An agent created the documented way, with the command line."""
    env = {**os.environ, **settings.to_env(), "AGENT_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "agents", "add", username, *flags],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """This module's own PostgreSQL: the last tests restart it."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    """This module's own Redis: the last test restarts it."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def database_url(own_postgres: PostgresServer) -> str:
    return own_postgres.create_database(f"gateway_{secrets.token_hex(4)}")


@pytest.fixture(scope="module")
def redis_url(own_redis: RedisServer) -> str:
    return own_redis.url


@pytest.fixture(scope="module")
def pg_stack(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str
) -> Iterator[Stack]:
    settings = isolated_settings(
        tmp_path_factory.mktemp("pg-stack"), PROJECT_ROOT / "var" / "log" / "test"
    ).replace(
        database_url=database_url,
        redis_url=redis_url,
        gateway_replicas=2,
        gateway_port=consecutive_free_ports(2),
        # Queue news travels between the replicas as it happens; the periodic look
        # (default every 5 s) would hide a replica that is not told.
        queue_resync_seconds=600.0,
    )
    stack = Stack(settings)
    try:
        stack.start()
        _add(settings, "pgagent", "--languages", "ko,ja,en", "--capacity", "5")
        _add(settings, "pglead", "--role", "supervisor")
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {a.id: a for a in load_kb(Settings().kb_dir)}


async def _count(url: str, sql: str, *args: object) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(sql, *args))
    finally:
        await connection.close()


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_chat_and_its_handoff_live_in_postgresql(
    pg_stack: Stack,
    database_url: str,
    redis_url: str,
    articles: dict[str, Article],
    language: str,
) -> None:
    url = pg_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start(language)
        answer = (await customer.say(QUESTIONS[language]))["replies"]
        assert answer[0]["text"] == articles["shipping_time"].answer_in(language)
        await customer.ask_for_a_person(ASK_FOR_PERSON[language])

        agent = await AgentClient(session, url).login("pgagent", PASSWORD)
        assert customer.conversation_id in [i["conversation_id"] for i in await agent.queue()]
        await accepted(agent, customer)
        assert (await agent.write(customer.conversation_id, "hello from a person"))[0] == 201
        assert (await agent.resolve(customer.conversation_id))[0] == 200
        transcript = await customer.transcript()

    texts = [m["text"] for m in transcript["messages"]]
    assert QUESTIONS[language] in texts and "hello from a person" in texts
    stored = await _count(
        database_url,
        "SELECT count(*) FROM messages WHERE conversation_id = $1",
        customer.conversation_id,
    )
    assert stored == len(transcript["messages"])
    resolved = await _count(
        database_url,
        "SELECT count(*) FROM handoffs WHERE conversation_id = $1 AND status = 'resolved'",
        customer.conversation_id,
    )
    assert resolved == 1
    assert not Path(pg_stack.settings.db_path).exists()  # nothing went to SQLite
    # the frames the customer's and the agent's websockets got went through Redis
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        entries = await client.xrange(shard_stream(DEFAULT_PREFIX, customer.conversation_id))
    finally:
        await client.aclose()
    frames = [
        json.loads(fields[b"f"])
        for _, fields in entries
        if fields[b"c"].decode() == customer.conversation_id
    ]
    assert "hello from a person" in [f.get("text") for f in frames if f.get("type") == "message"]


async def test_a_nul_from_a_client_is_stored_as_the_replacement_character(
    pg_stack: Stack,
) -> None:
    """PostgreSQL's text cannot hold a NUL: one in a customer's name, a customer's message
    (to the bot and to a person) or an agent's message is a 2xx, stored as U+FFFD."""
    url = pg_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start("ja", name="山田\x00花子")
        agent = await AgentClient(session, url).login("pgagent", PASSWORD)
        await handed_to(agent, customer, "注文を\x00キャンセルしたい", ASK_FOR_PERSON["ja"])
        assert (await agent.write(customer.conversation_id, "확인\x00했습니다"))[0] == 201
        await customer.say("ありがとう\x00")
        queue_view = await agent.call("GET", f"/api/agent/conversations/{customer.conversation_id}")
        transcript = await customer.transcript()
    texts = [m["text"] for m in transcript["messages"]]
    for text in ("注文を\ufffdキャンセルしたい", "확인\ufffd했습니다", "ありがとう\ufffd"):
        assert text in texts
    assert not any("\x00" in t for t in texts)
    assert queue_view[0] == 200
    assert "山田\ufffd花子" in json.dumps(queue_view[1], ensure_ascii=False)


async def test_a_restarted_gateway_finds_every_conversation(pg_stack: Stack) -> None:
    url = pg_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start("en")
        await customer.say(QUESTIONS["en"])
        before = await customer.transcript()
        await asyncio.to_thread(pg_stack.crash, "gateway")  # kill -9; supervisord restarts it
        after = await customer.transcript()  # the same token: the session is in PostgreSQL
        assert [m["seq"] for m in after["messages"]] == [m["seq"] for m in before["messages"]]
        reply = await customer.say("thanks")
        assert reply["replies"], reply


async def test_the_supervisor_report_reads_postgresql(pg_stack: Stack, database_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, pg_stack.settings.gateway_url).start("ja")
        await customer.say(QUESTIONS["ja"])
        lead = await AgentClient(session, pg_stack.settings.gateway_url).login("pglead", PASSWORD)
        status, report = await lead.call("GET", "/api/agent/analytics")
    conversations = await _count(database_url, "SELECT count(*) FROM conversations")
    resolved = await _count(database_url, "SELECT count(*) FROM handoffs WHERE status = 'resolved'")
    assert status == 200, report
    [total] = [
        row
        for row in report["figures"]["outcomes"]
        if row["day"] == "all" and row["language"] == "all"
    ]
    assert total["conversations"] == conversations >= 1
    assert total["agent_resolved"] == resolved


def queue_drops(frame: dict[str, Any], conversation_id: str) -> bool:
    """Whether a console frame takes `conversation_id` out of the queue: a delta that
    removes it, or a whole queue without it."""
    if frame["type"] == "queue_delta":
        return conversation_id in frame.get("removed", [])
    if frame["type"] == "queue":
        return conversation_id not in [item["conversation_id"] for item in frame["items"]]
    return False


def second_gateway(stack: Stack) -> str:
    """The other replica's address (a load balancer would pick either)."""
    return f"http://{stack.settings.host}:{stack.settings.gateway_port + 1}"


async def _customer_socket(
    session: aiohttp.ClientSession, url: str, customer: Customer
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{url}/api/conversations/{customer.conversation_id}/ws")
    await ws.send_json({"type": "hello", "token": customer.token, "last_seq": 0})
    return ws


AGENT_SAYS = {"ko": "안녕하세요, 상담원입니다", "ja": "担当の者です", "en": "hi, a person here"}


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_chat_queued_on_one_gateway_reaches_a_console_on_the_other_at_once(
    pg_stack: Stack, language: str
) -> None:
    """The customer asks for a person through replica A; the agent's console is on B.
    B hears of the queue change over Redis and sends the console the chat within a
    second or so, not at its next periodic look (600 s here); an accept through A takes
    it out of the console on B the same way."""
    first, second = pg_stack.settings.gateway_url, second_gateway(pg_stack)
    async with aiohttp.ClientSession() as session:
        agent = await AgentClient(session, second).login("pgagent", PASSWORD)
        console = await agent_socket(session, second, agent)
        customer = await Customer(session, first).start(language)
        await customer.ask_for_a_person(ASK_FOR_PERSON[language])
        cid = customer.conversation_id
        await next_frame(console, lambda frame: queue_brings(frame, cid), timeout=5.0)
        agent.base_url = first  # the accept goes through the other replica
        await accepted(agent, customer)
        await next_frame(console, lambda frame: queue_drops(frame, cid), timeout=5.0)
        assert (await agent.resolve(cid))[0] == 200
        await console.close()


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_customer_on_one_gateway_talks_with_an_agent_on_the_other(
    pg_stack: Stack, language: str
) -> None:
    """The customer's widget is connected to gateway A, the agent's console to gateway
    B: the queue, the agent's words and the customer's reach across (Redis), and the
    customer's requests may go to either replica."""
    first, second = pg_stack.settings.gateway_url, second_gateway(pg_stack)
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, first).start(language)
        widget = await _customer_socket(session, first, customer)
        agent = await AgentClient(session, second).login("pgagent", PASSWORD)
        console = await session.ws_connect(f"{second}/api/agent/ws")
        await console.send_json({"type": "hello", "token": agent.token})
        await next_frame(console, lambda f: f["type"] == "ready")

        customer.base_url = second  # the next request lands on the other replica
        # B's console learns of the chat queued through B's store, whichever replica
        await handed_to(agent, customer, ASK_FOR_PERSON[language], console=console)
        assert (await agent.write(customer.conversation_id, AGENT_SAYS[language]))[0] == 201
        said = await next_frame(widget, lambda f: f.get("role") == "agent")
        assert said["text"] == AGENT_SAYS[language]

        customer.base_url = first
        await customer.say(QUESTIONS[language])  # now for the person, through A
        heard = await next_frame(
            console,
            lambda f: f.get("type") == "message" and f.get("role") == "customer",
        )
        assert heard["text"] == QUESTIONS[language]
        assert (await agent.resolve(customer.conversation_id))[0] == 200
        await widget.close()
        await console.close()


async def test_one_conversation_alternates_between_replicas_in_order(pg_stack: Stack) -> None:
    """Each message to the other replica: every one answered once, in order, nothing lost
    (the relay's lock and the store are shared)."""
    urls = [pg_stack.settings.gateway_url, second_gateway(pg_stack)]
    questions = ["hi", QUESTIONS["en"], "thanks", QUESTIONS["en"]]
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, urls[0]).start("en")
        for turn, text in enumerate(questions):
            customer.base_url = urls[turn % 2]
            reply = await customer.say(text)
            assert reply["replies"], reply
        transcript = (await customer.transcript())["messages"]
    mine = [m for m in transcript if m["role"] == "customer"]
    assert [m["text"] for m in mine] == questions
    for message in mine:
        answers = [m for m in transcript if m.get("reply_to") == message["seq"]]
        assert answers and all(m["role"] == "bot" for m in answers), (message, transcript)


def _no_traceback(stack: Stack) -> None:
    for name in ("gateway", "gateway-2"):
        log = stack.log_path(name).read_text(errors="replace")
        assert "Traceback" not in log, stack.tail(name, 60)


async def test_a_postgresql_restart_loses_nothing_acknowledged(
    pg_stack: Stack, own_postgres: PostgresServer
) -> None:
    """PostgreSQL stops and starts again under three customers (ko/ja/en): what the
    gateways acknowledged is stored once and answered; meanwhile they answer 503 with
    Retry-After (the widget sends again), log one line, and reconnect by themselves."""
    urls = [pg_stack.settings.gateway_url, second_gateway(pg_stack)]
    async with aiohttp.ClientSession() as session:
        customers = [
            await Customer(session, urls[i % 2]).start(language)
            for i, language in enumerate(QUESTIONS)
        ]

        refusals = 0

        async def chat(customer: Customer, language: str) -> list[int]:
            nonlocal refusals
            seqs = []
            for text in (QUESTIONS[language], "thanks", QUESTIONS[language]):
                reply, refused = await say_until_acknowledged(customer, text)
                refusals += refused
                seqs.append(int(reply["seq"]))
                await asyncio.sleep(1.0)
            return seqs

        talking = asyncio.gather(*(chat(c, lang) for c, lang in zip(customers, QUESTIONS)))
        await asyncio.sleep(1.5)
        # Stopped and started on this thread, not a worker thread: the server dies with
        # the thread that started it (PR_SET_PDEATHSIG), and this test's worker threads
        # end with its event loop.
        own_postgres.stop()
        await asyncio.sleep(4)  # customers write meanwhile
        own_postgres.start()
        acknowledged = await talking
        assert refusals > 0  # the outage was seen, and answered 503
        for customer, seqs in zip(customers, acknowledged):
            transcript = await _transcript_when_answered(customer, seqs)
            stored = [m["seq"] for m in transcript if m["role"] == "customer"]
            assert stored == seqs  # each once, in order
    _no_traceback(pg_stack)


async def _transcript_when_answered(customer: Customer, seqs: list[int]) -> list[dict[str, Any]]:
    async with asyncio.timeout(90):
        while True:
            transcript: list[dict[str, Any]] = (await customer.transcript())["messages"]
            answered = {m.get("reply_to") for m in transcript if m["role"] == "bot"}
            if set(seqs) <= answered:
                return transcript
            await asyncio.sleep(1.0)


async def test_a_redis_restart_keeps_the_replicas_talking(
    pg_stack: Stack, own_redis: RedisServer
) -> None:
    """Redis stops and starts again (empty: no persistence) during a chat between a
    customer on gateway A and an agent on gateway B: the frames sent meanwhile arrive once
    it is back, and a customer who writes to the bot meanwhile is told and then answered."""
    first, second = pg_stack.settings.gateway_url, second_gateway(pg_stack)
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, first).start("ja")
        widget = await _customer_socket(session, first, customer)
        await customer.ask_for_a_person(ASK_FOR_PERSON["ja"])
        agent = await AgentClient(session, second).login("pgagent", PASSWORD)
        console = await session.ws_connect(f"{second}/api/agent/ws")
        await console.send_json({"type": "hello", "token": agent.token})
        await next_frame(console, lambda f: f["type"] == "ready")
        await accepted(agent, customer)

        own_redis.stop()  # on this thread: see the PostgreSQL test
        # Rasa's lock store is on Redis too: the bot is down meanwhile, so this message
        # is kept (with the notice) and answered once Redis is back.
        other = await Customer(session, second).start("ko")
        kept, _ = await say_until_acknowledged(other, QUESTIONS["ko"])
        assert kept["replies"], kept  # an answer, or the notice
        assert (await agent.write(customer.conversation_id, AGENT_SAYS["ja"]))[0] == 201
        own_redis.start()
        await _transcript_when_answered(other, [int(kept["seq"])])

        said = await next_frame(widget, lambda f: f.get("role") == "agent")
        assert said["text"] == AGENT_SAYS["ja"]
        await customer.say(QUESTIONS["ja"])
        heard = await next_frame(
            console, lambda f: f.get("type") == "message" and f.get("role") == "customer"
        )
        assert heard["text"] == QUESTIONS["ja"]
        await widget.close()
        await console.close()
    _no_traceback(pg_stack)


async def test_a_flood_through_both_replicas_spends_one_budget(pg_stack: Stack) -> None:
    """Eight messages at once, four to each replica: the conversation's burst (5) is
    spent once across both (Redis), not once per replica; the rest get 429."""
    urls = [pg_stack.settings.gateway_url, second_gateway(pg_stack)]
    burst = pg_stack.settings.message_burst
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, urls[0]).start("ko")

        async def post(turn: int) -> int:
            async with session.post(
                f"{urls[turn % 2]}/api/conversations/{customer.conversation_id}/messages",
                json={"text": f"안녕하세요 {turn}"},
                headers=customer.headers,
            ) as response:
                return response.status

        statuses = await asyncio.gather(*(post(turn) for turn in range(2 * burst - 2)))
    assert statuses.count(200) == burst, statuses
    assert statuses.count(429) == len(statuses) - burst, statuses
