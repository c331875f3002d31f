"""Fault injection under load, shared by tests/e2e/test_faults.py and bench/faults.py.

`ProductRun` is the product as an operator runs it: `make run` in its own process, on
its own ports and files. `CustomerLoad` is customers chatting at a steady pace through
the gateway's HTTP API the way the widget does: every message carries a client_id, and
a message the gateway did not acknowledge (it was down) is sent again, with the same
client_id, until it is. `inject` kills one part with SIGKILL and measures how long until
customers are answered again; `verify` then reads every transcript and Rasa's trackers
and counts what was lost or duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from handoff.conversation.rasa_client import effective_events
from stack.settings import PROJECT_ROOT, Settings

# In-scope questions and small talk only: two unanswered questions in a row would
# (by design) hand the chat to a person, which is not what this load is about.
MESSAGES = {
    "ko": [
        "안녕하세요",
        "배송 얼마나 걸려요?",
        "환불 언제 돼요",
        "비밀번호 까먹었어요",
        "고마워요",
    ],
    "ja": ["こんにちは", "配送に何日かかりますか", "パスワード忘れた", "返品したい", "ありがとう"],
    "en": [
        "hi there",
        "how long does shipping take",
        "i forgot my password",
        "how do i return an item",
        "thanks",
    ],
}
LANGUAGES = tuple(MESSAGES)
# What a program's own process has on its command line (below unshare and dumb-init).
PROGRAM_MODULES = {"actions": "stack.action_server", "rasa": "bot.serve", "gateway": "handoff"}
FAULTS = ("actions", "rasa", "gateway", "launcher")


def _wall() -> float:
    return time.time()


@dataclass
class Sent:
    customer: int
    text: str
    client_id: str
    first_try: float  # time.time() of the first attempt
    accepted: float | None = None  # when the gateway acknowledged it
    seq: int | None = None
    answered_at: float | None = None  # a bot answer came back in the response itself
    kept: bool = False  # the gateway kept it for later: the bot was down
    told: bool = False  # the customer got an answer, or knew the bot was down


@dataclass
class Customer:
    index: int
    language: str
    conversation_id: str
    token: str
    knows_bot_is_down: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class CustomerLoad:
    def __init__(self, gateway_url: str, customers: int, interval: float, seed: int = 7) -> None:
        self.gateway_url = gateway_url
        self.count = customers
        self.interval = interval
        self.seed = seed
        self.customers: list[Customer] = []
        self.sent: list[Sent] = []
        self.errors: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.session: aiohttp.ClientSession | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        for index in range(self.count):
            language = LANGUAGES[index % len(LANGUAGES)]
            async with session.post(
                f"{self.gateway_url}/api/conversations", json={"language": language}
            ) as r:
                body = await r.json()
            self.customers.append(Customer(index, language, body["conversation_id"], body["token"]))
        self._tasks = [
            asyncio.create_task(self._chat(session, customer)) for customer in self.customers
        ]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _chat(self, session: aiohttp.ClientSession, customer: Customer) -> None:
        rng = random.Random(self.seed * 1000 + customer.index)
        lines = MESSAGES[customer.language]
        turn = rng.randrange(len(lines))
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval * rng.uniform(0.5, 1.5))
            if self._stop.is_set():
                return
            turn += 1
            sent = Sent(customer.index, lines[turn % len(lines)], uuid.uuid4().hex, _wall())
            self.sent.append(sent)
            await self._deliver(session, customer, sent)

    async def _deliver(
        self, session: aiohttp.ClientSession, customer: Customer, sent: Sent
    ) -> None:
        """Send until acknowledged, as the widget does (same client_id every time)."""
        url = f"{self.gateway_url}/api/conversations/{customer.conversation_id}/messages"
        body = {"text": sent.text, "client_id": sent.client_id}
        while True:
            try:
                async with session.post(
                    url,
                    json=body,
                    headers=customer.headers,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as r:
                    if r.status == 200:
                        reply = await r.json()
                        break
                    self.errors[f"HTTP {r.status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.5)
        sent.accepted, sent.seq = _wall(), int(reply["seq"])
        sent.kept = bool(reply.get("pending"))
        roles = [m["role"] for m in reply["replies"]]
        if "bot" in roles:
            sent.answered_at = sent.accepted
            customer.knows_bot_is_down = False
        if "system" in roles and reply.get("pending"):
            customer.knows_bot_is_down = True
        sent.told = bool(reply["replies"]) or (reply.get("pending") and customer.knows_bot_is_down)

    def answered_again_after(self, moment: float) -> float | None:
        """When customers were answered again after a fault at `moment`: the first
        answer given at once after the last message that had to be kept (or, if none was,
        after `moment`). None while that has not happened."""
        after = [s for s in self.sent if s.first_try >= moment]
        kept = [s.accepted for s in after if s.kept and s.accepted]
        outage_end = max(kept, default=moment)
        # Only messages first sent after the fault count: one answered just before the
        # kill (its response still on the way) says nothing about recovery.
        times = [s.answered_at for s in after if s.answered_at and s.answered_at >= outage_end]
        return min(times) if times else None


@dataclass
class FaultResult:
    fault: str
    recovery_seconds: float | None
    sent_during_outage: int = 0
    lost: int = 0
    duplicated: int = 0
    silent_customers: int = 0  # wrote during the outage, got neither answer nor notice
    leftover_processes: int = 0  # only for the launcher: ours still alive after it died
    notes: list[str] = field(default_factory=list)


def program_pid(root_pid: int, name: str) -> int:
    """The pid of a program's own process among `root_pid`'s descendants (as an operator
    would find it in `ps`: the python running that module)."""
    module = PROGRAM_MODULES[name]
    for process in psutil.Process(root_pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            argv = process.cmdline()
            if "python" in Path(argv[0]).name and argv[1:3] == ["-m", module]:
                return int(process.pid)
    raise LookupError(f"no {name} process below pid {root_pid}")


class ProductRun:
    """`make run` as a separate process, with its own ports and files."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def launcher_pid(self) -> int:
        """The launcher (`python -m stack run`), which make runs as its child."""
        assert self.process is not None
        for child in psutil.Process(self.process.pid).children(recursive=True):
            if child.cmdline()[1:4] == ["-m", "stack", "run"]:
                return int(child.pid)
        raise LookupError("the launcher is not running")

    def start(self, timeout: float = 300.0) -> float:
        """Start and wait until ready (every part answers); returns the seconds it took."""
        started = time.monotonic()
        env = {
            **{
                k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
            },
            **self.settings.to_env(),
            "DEMO_AGENT_PASSWORD": "demo-password-1",
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while not _ready(self.settings.gateway_url):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"make run exited with {self.process.returncode}: see {self.log_path}"
                )
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"make run not ready after {timeout:.0f}s: see {self.log_path}")
            time.sleep(0.5)
        return time.monotonic() - started

    def descendants(self) -> list[psutil.Process]:
        found: list[psutil.Process] = psutil.Process(self.launcher_pid).children(recursive=True)
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def _ready(gateway_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{gateway_url}/readyz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def ports_in_use(settings: Settings) -> list[int]:
    ports = {settings.gateway_port, settings.rasa_port, settings.action_port}
    return sorted(
        c.laddr.port
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in ports
    )


async def inject(
    fault: str, run: ProductRun, load: CustomerLoad, recovery_timeout: float = 240.0
) -> FaultResult:
    """Kill one part with SIGKILL while `load` runs; wait until customers are answered again."""
    moment = _wall()
    result = FaultResult(fault, None)
    if fault == "launcher":
        ours = run.descendants()
        os.kill(run.launcher_pid, signal.SIGKILL)
        await asyncio.sleep(5)  # time for the kernel to take the namespace down
        result.leftover_processes = sum(1 for p in ours if _alive(p))
        if busy := ports_in_use(run.settings):
            result.notes.append(f"ports still taken: {busy}")
        assert run.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.process.wait(30)  # make reports the failure and exits
        result.notes.append(f"make run again: ready in {await asyncio.to_thread(run.start):.0f} s")
    else:
        os.kill(program_pid(run.launcher_pid, fault), signal.SIGKILL)
    deadline = time.monotonic() + recovery_timeout
    await asyncio.sleep(3)  # the fault has to show before recovery can be told apart
    while time.monotonic() < deadline:
        back = load.answered_again_after(moment)
        if back is not None and _wall() - back > 2:  # and nothing kept since
            break
        await asyncio.sleep(0.2)
    else:
        back = None
    if back is not None:
        result.recovery_seconds = back - moment
        outage = [s for s in load.sent if moment <= s.first_try <= back]
        result.sent_during_outage = len(outage)
        untold = [s for s in outage if s.accepted and not s.told]
        silent = [s for s in untold if not await _told_by_the_conversation(load, s)]
        result.silent_customers = len({s.customer for s in silent})
        for sent in silent:  # what a reader of the failure needs to find it in the logs
            customer = load.customers[sent.customer]
            assert sent.accepted is not None
            result.notes.append(
                f"silent: conversation {customer.conversation_id} seq {sent.seq}, sent "
                f"{sent.first_try - moment:+.1f} s, accepted {sent.accepted - moment:+.1f} s "
                f"after the kill, kept={sent.kept}"
            )
    # The next fault starts on a whole product: "any one process" killed, not two at once.
    while not await asyncio.to_thread(_ready, run.settings.gateway_url):
        if time.monotonic() > deadline:
            result.notes.append("not ready again before the deadline")
            break
        await asyncio.sleep(0.5)
    return result


async def _told_by_the_conversation(load: CustomerLoad, sent: Sent) -> bool:
    """What a POST's response did not say can still have reached the customer over the
    websocket, as it reaches the widget: the message is answered within 10 s, or, when it
    was sent, the latest word from the assistant was the outage notice (perhaps from an
    outage just before this one, not answered yet)."""
    assert sent.accepted is not None and load.session is not None
    latest_is_notice = False
    for message in await _transcript(load.session, load, load.customers[sent.customer]):
        if message["role"] not in ("bot", "system"):
            continue
        ts = datetime.fromisoformat(message["ts"].replace("Z", "+00:00")).timestamp()
        if message.get("reply_to") == sent.seq and ts <= sent.accepted + 10:
            return True
        if ts <= sent.accepted:
            latest_is_notice = _is_only_notice([message], message.get("reply_to"))
    return latest_is_notice


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


async def verify(
    session: aiohttp.ClientSession,
    load: CustomerLoad,
    settings: Settings,
    since: float = 0.0,
    timeout: float = 120.0,
) -> tuple[int, int]:
    """(lost, duplicated) among the messages first sent at or after `since`, once every
    acknowledged message has had up to `timeout` seconds to be answered.

    lost: acknowledged but never answered (no reply with its seq as `reply_to`), or not
    in the transcript at all. duplicated: stored twice in the transcript, or handled by
    Rasa more than once (its tracker, rewinds applied)."""
    deadline = time.monotonic() + timeout
    while True:
        transcripts = {c.index: await _transcript(session, load, c) for c in load.customers}
        lost, duplicated = _count(load, transcripts, since)
        if lost == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    for customer in load.customers:
        async with session.get(
            f"{settings.rasa_url}/conversations/{customer.conversation_id}/tracker",
            params={"token": settings.rasa_auth_token},
        ) as r:
            events = (await r.json()).get("events") or []
        turns = Counter(
            e.get("message_id") for e in effective_events(events) if e.get("event") == "user"
        )
        duplicated += sum(n - 1 for key, n in turns.items() if key and n > 1)
    return lost, duplicated


async def _transcript(
    session: aiohttp.ClientSession, load: CustomerLoad, customer: Customer
) -> list[dict[str, Any]]:
    async with session.get(
        f"{load.gateway_url}/api/conversations/{customer.conversation_id}", headers=customer.headers
    ) as r:
        messages: list[dict[str, Any]] = (await r.json())["messages"]
        return messages


def _count(
    load: CustomerLoad, transcripts: dict[int, list[dict[str, Any]]], since: float
) -> tuple[int, int]:
    lost = duplicated = 0
    for customer in load.customers:
        messages = transcripts[customer.index]
        stored = Counter(m["seq"] for m in messages if m["role"] == "customer")
        answered = {m.get("reply_to") for m in messages if m["role"] in ("bot", "system")}
        texts = [m["text"] for m in messages if m["role"] == "customer"]
        mine = [s for s in load.sent if s.customer == customer.index]
        # No message is stored more often than it was sent (one may still be in flight).
        duplicated += max(0, len(texts) - len(mine))
        for sent in mine:
            if not sent.accepted:
                continue
            if sent.first_try < since:
                continue
            if (
                stored.get(sent.seq) != 1
                or sent.seq not in answered
                or _is_only_notice(messages, sent.seq)
            ):
                lost += 1
    return lost, duplicated


def _is_only_notice(messages: list[dict[str, Any]], seq: int | None) -> bool:
    """A kept message whose only reply so far is the outage notice is not answered yet."""
    replies = [m for m in messages if m.get("reply_to") == seq]
    return bool(replies) and all(
        m["role"] == "system" and m.get("buttons", [{}])[0].get("payload") == "/request_human"
        for m in replies
    )
