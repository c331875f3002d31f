"""The product on four hosts: PostgreSQL, Redis and two application hosts (each a whole
`python -m stack run`: Rasa, the action server and a gateway), every one in a network
namespace of its own on one bridge, as machines on a LAN. The test process stands on
the bridge as a load balancer would. Nothing can work over a shared loopback here: each
part reaches the others by their addresses, and the first test proves it.

What must hold across machines: a customer on host A and an agent on host B chat live
in ko/ja/en (fan-out through Redis, one store in PostgreSQL, Rasa's trackers there too);
after PostgreSQL and then Redis restart mid-chat, nothing acknowledged is lost and both
hosts go on by themselves."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kb_index.articles import Article, load_kb
from stack.devservers import PostgresServer, RedisServer
from stack.settings import APP_VENV, PROJECT_ROOT, Settings
from tests.e2e.client import (
    AgentClient,
    Customer,
    handed_to,
    next_frame,
    say_until_acknowledged,
)
from tests.e2e.isolated import isolated_settings
from tests.e2e.netns import Lab, lab_unavailable, port_open_from

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(lab_unavailable() is not None, reason=str(lab_unavailable())),
]

PASSWORD = "multi-host-agent-1"
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
AGENT_SAYS = {"ko": "안녕하세요, 상담원입니다", "ja": "担当の者です", "en": "hi, a person here"}
GATEWAY_PORT = 8080


class HostStack:
    """`python -m stack run` on one host of the lab, its output in a file."""

    def __init__(self, lab: Lab, host: str, settings: Settings, log_path: Path) -> None:
        self.lab, self.host, self.settings, self.log_path = lab, host, settings, log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.settings.gateway_url

    def start(self) -> None:
        env = {
            **os.environ,
            **self.settings.to_env(),
            # Both hosts create the demo accounts in the one database: the same password
            # on both, or the second start would change the first one's.
            "DEMO_AGENT_PASSWORD": PASSWORD,
            "DEMO_SUPERVISOR_PASSWORD": PASSWORD,
        }
        with open(self.log_path, "ab") as log:
            self.process = self.lab.popen(
                self.host,
                [str(APP_VENV / "bin" / "python"), "-m", "stack", "run"],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.host} exited:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=3) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1.0)
        raise AssertionError(f"{self.host} not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)  # as Ctrl-C: the launcher stops in order
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(["db", "cache", "app1", "app2"]) as lab:
        yield lab


@pytest.fixture(scope="module")
def postgres(lab: Lab) -> Iterator[PostgresServer]:
    with PostgresServer(namespace=lab.namespace("db")) as server:
        yield server


@pytest.fixture(scope="module")
def redis(lab: Lab) -> Iterator[RedisServer]:
    with RedisServer(namespace=lab.namespace("cache")) as server:
        yield server


@pytest.fixture(scope="module")
def hosts(
    tmp_path_factory: pytest.TempPathFactory,
    lab: Lab,
    postgres: PostgresServer,
    redis: RedisServer,
) -> Iterator[list[HostStack]]:
    stacks = []
    for host in ("app1", "app2"):
        state = tmp_path_factory.mktemp(host)
        settings = isolated_settings(state, state / "log").replace(
            host=lab.address(host),
            # Each host is a machine of its own: the same ports on both, as in production.
            gateway_port=GATEWAY_PORT,
            rasa_port=5005,
            action_port=5055,
            database_url=postgres.url,
            redis_url=redis.url,
            # Customers and agents all come from the bridge's one address.
            trusted_proxies="",
        )
        stacks.append(HostStack(lab, host, settings, state / "stack.out"))
    try:
        for stack in stacks:  # both at once: two machines of a deploy starting together
            stack.start()
        for stack in stacks:
            stack.wait_ready(420)
        yield stacks
    finally:
        for stack in stacks:
            stack.stop()


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {a.id: a for a in load_kb(Settings().kb_dir)}


def test_the_hosts_reach_each_other_only_across_the_network(
    lab: Lab, postgres: PostgresServer, redis: RedisServer, hosts: list[HostStack]
) -> None:
    """From an application host PostgreSQL and Redis answer at their addresses and not on
    its loopback; the gateways answer at their hosts' addresses and not on the test's
    loopback; so every working path below goes across the bridge."""
    for host in ("app1", "app2"):
        assert port_open_from(lab, host, postgres.host, postgres.port)
        assert port_open_from(lab, host, redis.host, redis.port)
        assert not port_open_from(lab, host, "127.0.0.1", postgres.port)
        assert not port_open_from(lab, host, "127.0.0.1", redis.port)
    for stack in hosts:
        # Each host's Rasa and gateway listen on its address, not on its loopback...
        for port in (stack.settings.rasa_port, GATEWAY_PORT):
            assert port_open_from(lab, stack.host, stack.settings.host, port)
            assert not port_open_from(lab, stack.host, "127.0.0.1", port)
    # ...and the hosts see each other as LAN peers.
    assert port_open_from(lab, "app1", hosts[1].settings.host, GATEWAY_PORT)
    assert port_open_from(lab, "app2", hosts[0].settings.host, GATEWAY_PORT)


async def _connect(
    session: aiohttp.ClientSession, customer_host: str, agent_host: str, customer: Customer
) -> tuple[aiohttp.ClientWebSocketResponse, aiohttp.ClientWebSocketResponse, AgentClient]:
    widget = await session.ws_connect(
        f"{customer_host}/api/conversations/{customer.conversation_id}/ws"
    )
    await widget.send_json({"type": "hello", "token": customer.token, "last_seq": 0})
    agent = await AgentClient(session, agent_host).login("demo", PASSWORD)
    console = await session.ws_connect(f"{agent_host}/api/agent/ws")
    await console.send_json({"type": "hello", "token": agent.token})
    await next_frame(console, lambda f: f["type"] == "ready")
    return widget, console, agent


def _agent_message(f: dict[str, Any]) -> bool:
    return f.get("role") == "agent"


def _customer_message(f: dict[str, Any]) -> bool:
    return f.get("type") == "message" and f.get("role") == "customer"


async def _bot_reply(customer: Customer, seq: int) -> str:
    """The bot's answer to message `seq` once it is in the transcript (the gateway's
    'kept, will answer' notice is a system message, not the bot's)."""
    async with asyncio.timeout(90):
        while True:
            messages = (await customer.transcript())["messages"]
            answers = [m for m in messages if m.get("reply_to") == seq and m["role"] == "bot"]
            if answers:
                return str(answers[0]["text"])
            await asyncio.sleep(1.0)


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_customer_on_one_host_chats_with_an_agent_on_the_other(
    hosts: list[HostStack], articles: dict[str, Article], language: str
) -> None:
    a, b = hosts[0].url, hosts[1].url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, a).start(language)
        asked = await customer.say(QUESTIONS[language])
        # (On a loaded machine Rasa may miss the gateway's wait: the customer is told,
        # and the answer follows.)
        answer = await _bot_reply(customer, int(asked["seq"]))
        assert answer == articles["shipping_time"].answer_in(language)
        widget, console, agent = await _connect(session, a, b, customer)

        await handed_to(agent, customer, ASK_FOR_PERSON[language], console=console)
        assert (await agent.write(customer.conversation_id, AGENT_SAYS[language]))[0] == 201
        assert (await next_frame(widget, _agent_message))["text"] == AGENT_SAYS[language]

        await customer.say(QUESTIONS[language])  # through host A, to the person on B
        assert (await next_frame(console, _customer_message))["text"] == QUESTIONS[language]

        # The customer's next request lands on host B (no sticky sessions): same chat.
        customer.base_url = b
        await customer.say("thanks")
        assert (await next_frame(console, _customer_message))["text"] == "thanks"
        assert (await agent.resolve(customer.conversation_id))[0] == 200
        transcript = [m["text"] for m in (await customer.transcript())["messages"]]
        await widget.close()
        await console.close()
    for text in (QUESTIONS[language], AGENT_SAYS[language], "thanks"):
        assert text in transcript


async def test_postgresql_and_redis_restarts_lose_nothing_across_hosts(
    hosts: list[HostStack], postgres: PostgresServer, redis: RedisServer
) -> None:
    """A chat between a customer on host A and an agent on host B goes on through a
    PostgreSQL restart and then a Redis restart: every message the gateways acknowledged
    is stored once, in order, and still reaches the other side live."""
    a, b = hosts[0].url, hosts[1].url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, a).start("ja")
        await customer.say(QUESTIONS["ja"])
        widget, console, agent = await _connect(session, a, b, customer)
        await handed_to(agent, customer, ASK_FOR_PERSON["ja"])

        acknowledged = []
        for restart, server in (("postgresql", postgres), ("redis", redis)):
            # Stopped and started on this thread: a server dies with the thread that
            # started it (PR_SET_PDEATHSIG), and worker threads end with the event loop.
            server.stop()
            text = f"{restart} は戻りましたか"
            sending = asyncio.create_task(say_until_acknowledged(customer, text))
            await asyncio.sleep(3)  # the customer writes while it is away
            server.start()
            acknowledged.append(int((await sending)[0]["seq"]))
            assert (await next_frame(console, _customer_message))["text"] == text
            reply = f"{restart}: はい、戻りました"
            async with asyncio.timeout(60):
                while (await agent.write(customer.conversation_id, reply))[0] != 201:
                    await asyncio.sleep(0.5)
            assert (await next_frame(widget, _agent_message))["text"] == reply

        messages = (await customer.transcript())["messages"]
        await widget.close()
        await console.close()
    mine = [m["seq"] for m in messages if m["role"] == "customer"]
    assert [seq for seq in mine if seq in acknowledged] == acknowledged  # once each, in order
    assert len(mine) == len(set(mine))
    for stack in hosts:
        log = "\n".join(
            path.read_text(errors="replace") for path in stack.settings.log_dir.glob("gateway*.log")
        )
        assert "Traceback" not in log, stack.tail()
