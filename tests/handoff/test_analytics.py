"""Every analytics figure on conversations written through the real code paths (store,
relay, handoff service; a scripted Rasa), with known outcomes, waits, ratings and
languages, asserted exactly."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from handoff.agent import analytics
from handoff.agent.analytics_api import live_state, parse_filters
from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import CANCEL_PAYLOAD, HandoffService
from handoff.conversation.models import Conversation, Reply
from handoff.conversation.service import ConversationService
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from tests.handoff.fake_rasa import FakeRasa

DAY1, DAY2 = "2026-11-02", "2026-11-03"


def answer(article: str) -> list[Reply]:
    return [Reply("the answer", meta={"kb": {"decision": "answer", "article_id": article}})]


def verdict(kind: str, article: str | None) -> list[Reply]:
    return [Reply("noted", meta={"kb_feedback": {"kind": kind, "article_id": article}})]


def handoff(reason: str, kb: str | None = None) -> list[Reply]:
    meta: dict[str, Any] = {"handoff": {"reason": reason}}
    if kb:
        meta["kb"] = {"decision": kb}
    return [Reply("a person is coming", meta=meta)]


# What the bot answers to each customer message (as the action server would say it).
SCRIPT: dict[str, list[Reply]] = {
    "q-a": answer("a"),
    "q-c": answer("c"),
    "q-clarify": [Reply("did you mean", meta={"kb": {"decision": "clarify"}})],
    "/choose-b": [Reply("b's answer", meta={"kb": {"decision": "chosen", "article_id": "b"}})],
    "q-abstain": [Reply("sorry", meta={"kb": {"decision": "abstain"}})],
    "q-abstain-again": handoff("misses", kb="abstain"),
    "/affirm": verdict("helpful", "a"),
    "/deny": verdict("not_helpful", "a"),
    "talk to a human": handoff("requested"),
    "this is terrible": handoff("complaint", kb="abstain"),
    "billing dispute": handoff("always_human"),
}


class ScriptedRasa(FakeRasa):
    async def send(
        self, sender: str, message: str, metadata: dict[str, Any], message_id: str
    ) -> list[Reply]:
        self.sent.append((sender, message, message_id))
        replies = copy.deepcopy(SCRIPT.get(message, [Reply("ok")]))
        if any("handoff" in r.meta for r in replies):
            self.paused.add(sender)
        return replies


class Clock:
    """Stands in for time.time() and the store's ISO timestamps."""

    def __init__(self) -> None:
        self.now = 0.0

    def at(self, day: str, seconds: float) -> None:
        self.now = datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp() + seconds

    def time(self) -> float:
        return self.now

    def iso(self) -> str:
        moment = datetime.fromtimestamp(self.now, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class World:
    store: SQLiteStore
    service: ConversationService
    handoffs: HandoffService
    clock: Clock

    async def start(self, language: str, day: str, second: float) -> Conversation:
        self.clock.at(day, second)
        conversation, _ = await self.store.create_conversation(language, {})
        return conversation

    async def say(self, conversation: Conversation, text: str, payload: str | None = None) -> None:
        """Sent as a button payload, so that the script's words never switch the
        conversation's language (the gateway detects it from typed text)."""
        current = await self.store.get_conversation(conversation.id)
        assert current is not None
        await self.service.handle_customer_message(current, text, payload or text)

    async def agent_handles(
        self, conversation: Conversation, agent: str, *, accept: float, reply: float, resolve: float
    ) -> None:
        """Accept `accept` s after the chat was queued, first reply at `reply` s after it
        was queued, resolve `resolve` s after accepting."""
        queued = self.clock.now
        person = await self.handoffs.handoffs.agent(agent)
        assert person is not None
        self.clock.now = queued + accept
        await self.handoffs.accept(person, conversation.id)
        self.clock.now = queued + reply
        await self.handoffs.agent_message(person, conversation.id, "hello, I can help")
        self.clock.now = queued + accept + resolve
        await self.handoffs.resolve(person, conversation.id)

    def online(self, *agents: str) -> None:
        self.handoffs.presence.last_seen = {a: self.clock.now for a in agents}


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    clock = Clock()
    fake_time = SimpleNamespace(time=clock.time)
    monkeypatch.setattr("handoff.store.sqlite_handoffs.time", fake_time)
    monkeypatch.setattr("handoff.conversation.handoff_service.time", fake_time)
    monkeypatch.setattr("handoff.store.sqlite.utc_now", clock.iso)
    monkeypatch.setattr("handoff.store.sqlite_handoffs.utc_now", clock.iso)
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    rasa, hub = ScriptedRasa(), Hub()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, 3)  # type: ignore[arg-type]
    people = HandoffService(
        store,
        HandoffStore(store.connection),
        rasa,
        relay,
        hub,
        texts,
        {},  # type: ignore[arg-type]
    )
    relay.on_handoff = people.escalate
    for name, languages in (("mina", ["ko", "ja", "en"]), ("kenji", ["ja"])):
        await people.handoffs.upsert_agent(name, "password-1", languages, [], 3)
    service = ConversationService(store, relay, hub, texts, 2000, people)
    yield World(store, service, people, clock)
    await store.close()


async def build(w: World) -> None:
    """Eleven counted conversations over two days, and one never used.

    day 1  c1 ko  answer a, "helped"                           bot_resolved
           c2 ko  clarify, picks b                             bot_resolved
           c3 ja  abstain, abstain -> misses; mina: wait 50 s, handle 300 s; rated 5
           c4 en  answer a, "didn't help", asks for a person; leaves -> abandoned
           c5 en  opened, nothing said                         (not counted)
    day 2  c6 ko  asks for a person; mina: wait 20 s, handle 100 s; rated 3
           c7 ja  complaint (abstain); kenji: wait 40 s, handle 500 s; not rated
           c8 en  billing dispute, nobody online -> offline ticket
           c9 ko  asks for a person, cancels                   cancelled
           c10 ja answer c; rates 4 with no agent                bot_resolved
           c11 en abstain                                      bot_unresolved
           c12 ko answer a, asks for a person, still waiting   open
    Labels: c3 refund + vip, c6 refund, c12 vip; c5 bug (not counted: nothing said).
    """
    c1 = await w.start("ko", DAY1, 3600)
    await w.say(c1, "q-a")
    await w.say(c1, "yes", "/affirm")
    c2 = await w.start("ko", DAY1, 3700)
    await w.say(c2, "q-clarify")
    await w.say(c2, "b", "/choose-b")
    c3 = await w.start("ja", DAY1, 7200)
    w.online("mina", "kenji")
    await w.say(c3, "q-abstain")
    await w.say(c3, "q-abstain-again")
    await w.agent_handles(c3, "mina", accept=30, reply=50, resolve=300)
    await w.say(c3, "5", '/rate{"rating": "5"}')
    c4 = await w.start("en", DAY1, 10_000)
    await w.say(c4, "q-a")
    await w.say(c4, "no", "/deny")
    await w.say(c4, "talk to a human")
    assert await w.handoffs.abandon_stale(now=w.clock.now + 601) == [c4.id]
    c5 = await w.start("en", DAY1, 20_000)

    c6 = await w.start("ko", DAY2, 3600)
    w.online("mina", "kenji")
    await w.say(c6, "talk to a human")
    await w.agent_handles(c6, "mina", accept=10, reply=20, resolve=100)
    await w.say(c6, "3", '/rate{"rating": "3"}')
    c7 = await w.start("ja", DAY2, 5000)
    w.online("mina", "kenji")
    await w.say(c7, "this is terrible")
    await w.agent_handles(c7, "kenji", accept=30, reply=40, resolve=500)
    c8 = await w.start("en", DAY2, 7000)
    w.online()
    await w.say(c8, "billing dispute")
    await w.say(c8, "reach me at kim@example.com")
    c9 = await w.start("ko", DAY2, 8000)
    w.online("mina")
    await w.say(c9, "talk to a human")
    await w.say(c9, "cancel", CANCEL_PAYLOAD)
    c10 = await w.start("ja", DAY2, 9000)
    await w.say(c10, "q-c")
    await w.say(c10, "4", '/rate{"rating": "4"}')
    c11 = await w.start("en", DAY2, 9500)
    await w.say(c11, "q-abstain")
    c12 = await w.start("ko", DAY2, 9900)
    w.online("mina")
    await w.say(c12, "q-a")
    await w.say(c12, "talk to a human")
    states = [(await w.store.get_conversation(c.id)).state for c in (c8, c9, c12)]  # type: ignore[union-attr]
    assert states == ["bot", "bot", "queued"]
    labelled = [(c3, ["refund", "vip"]), (c6, ["refund"]), (c12, ["vip"]), (c5, ["bug"])]
    for conversation, labels in labelled:
        await w.handoffs.handoffs.set_labels(conversation.id, labels, "mina")


def pick(rows: list[analytics.Row], day: str, language: str, **keys: str) -> analytics.Row:
    [row] = [
        r
        for r in rows
        if r["day"] == day and r["language"] == language and all(r[k] == v for k, v in keys.items())
    ]
    return row


NOVEMBER = analytics.Filters(date(2026, 11, 1), date(2026, 11, 30))


async def figures(w: World, filters: analytics.Filters = NOVEMBER) -> dict[str, Any]:
    report = await analytics.report(analytics.sqlite_fetch(w.store.connection), filters)
    figures: dict[str, Any] = report["figures"]
    return figures


async def test_outcomes(world: World) -> None:
    await build(world)
    rows = (await figures(world))["outcomes"]
    total = pick(rows, "all", "all")
    assert total == {
        "day": "all",
        "language": "all",
        "conversations": 11,
        "bot_resolved": 3,
        "bot_unresolved": 1,
        "handed_off": 7,
        "agent_resolved": 3,
        "abandoned": 1,
        "offline_ticket": 1,
        "cancelled": 1,
        "open": 1,
        "deflection_rate": round(3 / 11, 4),
    }
    day1_ko = pick(rows, DAY1, "ko")
    assert (day1_ko["conversations"], day1_ko["bot_resolved"]) == (2, 2)
    day1_en = pick(rows, DAY1, "en")  # c5 (nothing said) does not count
    assert (day1_en["conversations"], day1_en["abandoned"]) == (1, 1)
    day2 = pick(rows, DAY2, "all")
    assert (day2["conversations"], day2["handed_off"], day2["bot_resolved"]) == (7, 5, 1)
    ko = pick(rows, "all", "ko")
    assert (ko["conversations"], ko["cancelled"], ko["open"], ko["agent_resolved"]) == (5, 1, 1, 1)


async def test_handoff_reasons(world: World) -> None:
    await build(world)
    rows = (await figures(world))["handoff_reasons"]
    totals = {r["reason"]: r["handoffs"] for r in rows if r["day"] == r["language"] == "all"}
    assert totals == {
        "requested": 4,
        "misses": 1,
        "complaint": 1,
        "always_human": 1,
    }
    assert pick(rows, DAY2, "ko", reason="requested")["handoffs"] == 3
    assert pick(rows, DAY1, "all", reason="requested")["handoffs"] == 1


async def test_wait_to_first_reply_and_handle_time(world: World) -> None:
    await build(world)
    result = await figures(world)
    wait, handle = result["first_reply_wait"], result["handle_time"]
    assert pick(wait, "all", "all") == {
        "day": "all",
        "language": "all",
        "count": 3,
        "mean": round((50 + 20 + 40) / 3, 1),
        "p50": 40.0,
        "p90": 50.0,
    }
    assert {k: pick(wait, "all", "ja")[k] for k in ("count", "p50", "p90")} == {
        "count": 2,
        "p50": 40.0,
        "p90": 50.0,
    }
    assert (pick(wait, DAY2, "all")["p50"], pick(wait, DAY2, "all")["p90"]) == (20.0, 40.0)
    assert pick(wait, DAY1, "ja")["count"] == 1
    total = pick(handle, "all", "all")
    assert (total["count"], total["mean"], total["p50"], total["p90"]) == (3, 300.0, 300.0, 500.0)
    assert pick(handle, DAY2, "ko")["p50"] == 100.0


async def test_csat(world: World) -> None:
    await build(world)
    rows = (await figures(world))["csat"]
    mina = pick(rows, "all", "all", agent="mina")
    assert {k: mina[k] for k in ("asked", "responded", "ratings", "average", "response_rate")} == {
        "asked": 2,
        "responded": 2,
        "ratings": 2,
        "average": 4.0,
        "response_rate": 1.0,
    }
    assert [mina[f"r{i}"] for i in range(1, 6)] == [0, 0, 1, 0, 1]
    kenji = pick(rows, "all", "all", agent="kenji")
    assert (kenji["asked"], kenji["ratings"], kenji["average"], kenji["response_rate"]) == (
        1,
        0,
        None,
        0.0,
    )
    bot = pick(rows, "all", "all", agent="bot")
    assert (bot["ratings"], bot["average"], bot["r4"], bot["response_rate"]) == (1, 4.0, 1, None)
    everyone = pick(rows, "all", "all", agent="all")
    assert (everyone["asked"], everyone["responded"], everyone["ratings"]) == (3, 2, 3)
    assert (everyone["average"], everyone["response_rate"]) == (4.0, round(2 / 3, 4))
    assert pick(rows, DAY1, "ja", agent="mina")["r5"] == 1


async def test_bot_decisions_and_articles(world: World) -> None:
    await build(world)
    result = await figures(world)
    decisions = pick(result["bot_decisions"], "all", "all")
    assert {k: decisions[k] for k in ("answer", "clarify", "abstain", "chosen")} == {
        "answer": 4,
        "clarify": 1,
        "abstain": 4,
        "chosen": 1,
    }
    assert decisions["answer_share"] == round(4 / 9, 4)
    assert decisions["clarify_share"] == round(1 / 9, 4)
    day1 = pick(result["bot_decisions"], DAY1, "all")
    assert (day1["answer"], day1["clarify"], day1["abstain"], day1["chosen"]) == (2, 1, 2, 1)
    articles = {
        r["article_id"]: (r["shown"], r["helpful"], r["not_helpful"])
        for r in result["articles"]
        if r["day"] == r["language"] == "all"
    }
    assert articles == {"a": (3, 1, 1), "b": (1, 0, 0), "c": (1, 0, 0)}
    a = pick(result["articles"], "all", "all", article_id="a")
    assert (a["helpful_rate"], a["not_helpful_rate"]) == (round(1 / 3, 4), round(1 / 3, 4))


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])
async def test_labels(world: World, tz: str) -> None:
    """Per label, the counted conversations carrying it now; the share is over every
    counted conversation of the same day and language. Kolkata (+05:30) takes the other
    path (days, not hours, grouped in SQL) to the same days."""
    await build(world)
    filters = analytics.Filters(NOVEMBER.start, NOVEMBER.end, tz=tz)
    rows = (await figures(world, filters))["labels"]
    counts = {(r["day"], r["language"], r["label"]): (r["conversations"], r["share"]) for r in rows}
    assert counts == {
        (DAY1, "ja", "refund"): (1, 1.0),  # c3 is day 1's only Japanese conversation
        (DAY1, "ja", "vip"): (1, 1.0),
        (DAY2, "ko", "refund"): (1, 0.3333),  # of c6, c9, c12
        (DAY2, "ko", "vip"): (1, 0.3333),
        (DAY1, "all", "refund"): (1, 0.25),  # of c1..c4
        (DAY1, "all", "vip"): (1, 0.25),
        (DAY2, "all", "refund"): (1, 0.1429),  # of c6..c12
        (DAY2, "all", "vip"): (1, 0.1429),
        ("all", "ja", "refund"): (1, 0.3333),  # of c3, c7, c10
        ("all", "ja", "vip"): (1, 0.3333),
        ("all", "ko", "refund"): (1, 0.2),  # of c1, c2, c6, c9, c12
        ("all", "ko", "vip"): (1, 0.2),
        ("all", "all", "refund"): (2, 0.1818),  # of 11
        ("all", "all", "vip"): (2, 0.1818),
    }
    # narrowed to a language: only its conversations and their labels
    only_ko = await analytics.labels(
        analytics.sqlite_fetch(world.store.connection),
        analytics.Filters(NOVEMBER.start, NOVEMBER.end, "ko", tz),
    )
    assert {(r["language"], r["label"]) for r in only_ko} == {
        ("ko", "refund"),
        ("ko", "vip"),
        ("all", "refund"),
        ("all", "vip"),
    }
    assert pick(only_ko, "all", "all", label="vip")["share"] == 0.2


async def test_filters_narrow_by_day_and_language(world: World) -> None:
    await build(world)
    day2_ja = analytics.Filters(date(2026, 11, 3), date(2026, 11, 3), "ja")
    result = await figures(world, day2_ja)
    total = pick(result["outcomes"], "all", "all")
    assert (total["conversations"], total["agent_resolved"], total["bot_resolved"]) == (2, 1, 1)
    assert [r["reason"] for r in result["handoff_reasons"] if r["day"] == "all"] == [
        "complaint",
        "complaint",
    ]
    assert pick(result["first_reply_wait"], "all", "all")["p50"] == 40.0
    december = analytics.Filters(date(2026, 12, 1), date(2026, 12, 31))
    assert all(rows == [] for rows in (await figures(world, december)).values())


async def test_csv_export_uses_the_same_rows(world: World) -> None:
    await build(world)
    rows = await analytics.outcomes(analytics.sqlite_fetch(world.store.connection), NOVEMBER)
    lines = analytics.to_csv(rows).splitlines()
    assert lines[0].startswith("day,language,conversations,bot_resolved")
    assert len(lines) == len(rows) + 1
    assert any(line.startswith("all,all,11,3,1,7,") for line in lines)


def test_every_figure_has_its_definition() -> None:
    definitions = analytics.definitions()
    assert set(definitions) == set(analytics.FIGURES)
    assert "deflection" in definitions["outcomes"] and "nearest rank" in definitions["handle_time"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "not a date"),
        ({"from": "yesterday"}, "a date like"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "after"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "longer than"),
        ({"language": "fr"}, "language"),
        ({"format": "xml"}, "format"),
        ({"lang": "ko"}, "unknown parameter"),
    ],
)
def test_bad_filters_say_what_is_wrong(query: dict[str, str], message: str) -> None:
    with pytest.raises(analytics.InvalidRange, match=message):
        parse_filters(query)


def test_default_range_is_the_last_30_days() -> None:
    filters = parse_filters({"language": "all"})
    assert (filters.end - filters.start).days == 29 and filters.language is None
    assert parse_filters({"from": "2026-11-01", "to": "2026-11-02", "language": "ko"}) == (
        analytics.Filters(date(2026, 11, 1), date(2026, 11, 2), "ko")
    )


async def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """Files from before roles and analytics get the new columns, with their facts
    filled in, and opening twice changes nothing."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE conversations (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL,
            language TEXT NOT NULL, state TEXT NOT NULL, customer_json TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE messages (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
            role TEXT NOT NULL, text TEXT NOT NULL, payload TEXT, client_id TEXT,
            buttons_json TEXT NOT NULL DEFAULT '[]', links_json TEXT NOT NULL DEFAULT '[]',
            meta_json TEXT NOT NULL DEFAULT '{}', ts TEXT NOT NULL,
            PRIMARY KEY (conversation_id, seq));
        CREATE TABLE agents (username TEXT PRIMARY KEY, display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL, languages_json TEXT NOT NULL,
            skills_json TEXT NOT NULL, capacity INTEGER NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE handoffs (id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
            priority INTEGER NOT NULL, language TEXT NOT NULL, skill TEXT, agent TEXT,
            summary TEXT NOT NULL, context_json TEXT NOT NULL, queued_at REAL NOT NULL,
            assigned_at REAL, closed_at REAL);
        INSERT INTO conversations VALUES ('c1', 'h', 'ko', 'bot', '{}',
            '2026-11-02T01:00:00.000Z', '2026-11-02T01:00:00.000Z');
        INSERT INTO conversations VALUES ('c2', 'h', 'en', 'bot', '{}',
            '2026-11-02T02:00:00.000Z', '2026-11-02T02:00:00.000Z');
        INSERT INTO messages (conversation_id, seq, role, text, ts)
            VALUES ('c1', 1, 'customer', 'hi', '2026-11-02T01:00:01.000Z');
        INSERT INTO agents VALUES ('old', 'Old', 'x', '["ko"]', '[]', 2, 'then');
        INSERT INTO handoffs (conversation_id, status, reason, priority, language, summary,
            context_json, queued_at) VALUES ('c1', 'abandoned', 'requested', 1, 'ko', '', '{}', 1);
        """
    )
    db.close()
    for _ in range(2):
        store = await SQLiteStore.open(path)
        agents = HandoffStore(store.connection)
        old = await agents.agent("old")
        assert old is not None and old.role == "agent" and not old.is_supervisor
        rows = await analytics.outcomes(analytics.sqlite_fetch(store.connection), NOVEMBER)
        assert pick(rows, "all", "all")["abandoned"] == 1  # c2: nothing said, not counted
        assert pick(rows, "all", "all")["conversations"] == 1
        reasons = await analytics.handoff_reasons(
            analytics.sqlite_fetch(store.connection), NOVEMBER
        )
        assert pick(reasons, "2026-11-02", "ko", reason="requested")["handoffs"] == 1
        await store.close()


async def test_supervisor_role(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    agents = HandoffStore(store.connection)
    lead = await agents.upsert_agent("lead", "password-1", ["ko"], [], 2, role="supervisor")
    assert lead.is_supervisor and lead.public()["role"] == "supervisor"
    demoted = await agents.upsert_agent("lead", "password-1", ["ko"], [], 2)
    assert demoted.role == "agent"
    with pytest.raises(ValueError, match="role"):
        await agents.upsert_agent("x", "password-1", ["ko"], [], 2, role="boss")
    await store.close()


def test_cli_adds_a_supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handoff.__main__ import main

    monkeypatch.setenv("ASSISTANT_DB_PATH", str(tmp_path / "db.sqlite3"))
    monkeypatch.setenv("AGENT_PASSWORD", "a long secret")
    assert main(["agents", "add", "lead", "--role", "supervisor", "--capacity", "2"]) == 0
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    assert db.execute("SELECT role FROM agents WHERE username = 'lead'").fetchone() == (
        "supervisor",
    )
    db.close()


def test_bot_events_read_from_reply_meta() -> None:
    from handoff.conversation.bot_events import bot_events

    assert bot_events({"kb": {"decision": "answer", "article_id": "a"}}) == [("answer", "a")]
    assert bot_events({"kb": {"decision": "abstain"}, "handoff": {}}) == [("abstain", None)]
    assert bot_events({"kb_feedback": {"kind": "none_of_these", "article_id": None}}) == [
        ("none_of_these", None)
    ]
    assert bot_events({"kb": {"decision": "weird"}, "error": "x"}) == []
    assert json.dumps(bot_events({})) == "[]"


async def test_live_view_of_the_queue_and_agents(world: World) -> None:
    await build(world)
    state = await live_state(world.handoffs, now=world.clock.now + 90)
    assert state["queue"] == [
        {
            "team": "default",
            "language": "ko",
            "skill": None,
            "waiting": 1,
            "oldest_wait_seconds": 90,
        }
    ]
    assert (state["queued_total"], state["agents_online"]) == (1, 1)
    by_name = {a["username"]: a for a in state["agents"]}
    assert (by_name["mina"]["online"], by_name["mina"]["open_chats"]) == (True, 0)
    assert (by_name["kenji"]["online"], by_name["kenji"]["capacity"]) == (False, 3)


# -- time zones ---------------------------------------------------------------------------

NOV2, NOV3 = "2026-11-02", "2026-11-03"


async def build_around_midnight(w: World) -> None:
    """Four conversations around midnight in Seoul (15:00 UTC) and in Kolkata (18:30 UTC):

    UTC start        Seoul         Kolkata       what happened
    11-02 14:59:59   11-02 23:59   11-02 20:29   ko  answer a, "helped"       bot_resolved
    11-02 15:00:00   11-03 00:00   11-02 20:30   ja  asks for a person; mina: wait 45 s,
                                                     handle 200 s; rated 5    agent_resolved
    11-02 23:30:00   11-03 08:30   11-03 05:00   en  clarify, picks b         bot_resolved
    11-03 00:30:00   11-03 09:30   11-03 06:00   ko  answer c                 bot_resolved
    """
    ca = await w.start("ko", NOV2, 14 * 3600 + 59 * 60 + 59)
    await w.say(ca, "q-a")
    await w.say(ca, "yes", "/affirm")
    cb = await w.start("ja", NOV2, 15 * 3600)
    w.online("mina")
    await w.say(cb, "talk to a human")
    await w.agent_handles(cb, "mina", accept=30, reply=45, resolve=200)
    await w.say(cb, "5", '/rate{"rating": "5"}')
    cc = await w.start("en", NOV2, 23 * 3600 + 30 * 60)
    await w.say(cc, "q-clarify")
    await w.say(cc, "b", "/choose-b")
    cd = await w.start("ko", NOV3, 30 * 60)
    await w.say(cd, "q-c")


def per_day(rows: list[analytics.Row], column: str, **keys: str) -> dict[str, Any]:
    """{day: value} over every language (roll-ups left out)."""
    return {
        r["day"]: r[column]
        for r in rows
        if r["day"] != "all" and r["language"] == "all" and all(r[k] == v for k, v in keys.items())
    }


@pytest.mark.parametrize(
    ("tz", "nov2", "nov3"),
    [
        # (conversations on 11-02, on 11-03) by where each zone's midnight falls
        ("UTC", 3, 1),
        ("Asia/Seoul", 1, 3),  # whole-hour offset: hours folded into days
        ("Asia/Kolkata", 2, 2),  # +05:30: the days themselves bucketed in SQL
    ],
)
async def test_days_are_the_time_zones_days(world: World, tz: str, nov2: int, nov3: int) -> None:
    await build_around_midnight(world)
    filters = analytics.Filters(date(2026, 11, 2), date(2026, 11, 3), tz=tz)
    result = await figures(world, filters)
    assert per_day(result["outcomes"], "conversations") == {NOV2: nov2, NOV3: nov3}
    assert pick(result["outcomes"], "all", "all")["bot_resolved"] == 3


async def test_every_figure_moves_to_the_seoul_day(world: World) -> None:
    """The same conversations, counted per UTC day and per Seoul day, exactly."""
    await build_around_midnight(world)
    utc = await figures(world, analytics.Filters(date(2026, 11, 2), date(2026, 11, 3)))
    seoul = await figures(
        world, analytics.Filters(date(2026, 11, 2), date(2026, 11, 3), tz="Asia/Seoul")
    )
    # The handoff (cb, 15:00 UTC) is on 11-02 in UTC, on 11-03 in Seoul; so is its wait,
    # its handle time and its rating.
    for result, day in ((utc, NOV2), (seoul, NOV3)):
        assert per_day(result["outcomes"], "handed_off") == {NOV2: 0, NOV3: 0} | {day: 1}
        assert per_day(result["handoff_reasons"], "handoffs", reason="requested") == {day: 1}
        assert per_day(result["first_reply_wait"], "p50") == {day: 45.0}
        assert per_day(result["handle_time"], "p50") == {day: 200.0}
        assert pick(result["csat"], day, "ja", agent="mina")["r5"] == 1
    assert per_day(utc["bot_decisions"], "answer") == {NOV2: 1, NOV3: 1}
    assert per_day(utc["bot_decisions"], "clarify") == {NOV2: 1, NOV3: 0}
    assert per_day(seoul["bot_decisions"], "answer") == {NOV2: 1, NOV3: 1}
    assert per_day(seoul["bot_decisions"], "clarify") == {NOV2: 0, NOV3: 1}
    assert per_day(seoul["outcomes"], "conversations") == {NOV2: 1, NOV3: 3}
    assert seoul["outcomes"][0]["day"] == "2026-11-02"  # days, never UTC hours


@pytest.mark.parametrize(
    ("tz", "day", "articles"),
    [
        ("UTC", NOV2, {"a", "b"}),
        ("UTC", NOV3, {"c"}),
        ("Asia/Seoul", NOV2, {"a"}),
        ("Asia/Seoul", NOV3, {"b", "c"}),
        ("Asia/Kolkata", NOV3, {"b", "c"}),
    ],
)
async def test_the_range_is_the_time_zones_days(
    world: World, tz: str, day: str, articles: set[str]
) -> None:
    """`from` and `to` are days in `tz`: the article table (no per-day rows) too."""
    await build_around_midnight(world)
    one_day = date.fromisoformat(day)
    result = await figures(world, analytics.Filters(one_day, one_day, tz=tz))
    shown = {r["article_id"] for r in result["articles"] if r["language"] == "all"}
    assert shown == articles
    assert {r["day"] for r in result["outcomes"]} == {day, "all"}


def test_day_boundaries_follow_dst() -> None:
    """New York: 11-08 has 23 hours; Santiago skips 00:00 on 2026-09-06 (the day starts
    at the jump, 01:00 local)."""
    new_york = analytics.Filters(date(2026, 3, 7), date(2026, 3, 9), tz="America/New_York")
    assert new_york.boundaries() == [
        "2026-03-07T05:00:00.000Z",
        "2026-03-08T05:00:00.000Z",
        "2026-03-09T04:00:00.000Z",
        "2026-03-10T04:00:00.000Z",
    ]
    assert new_york.hourly() and not new_york.midnight_utc()
    assert [new_york.day_of(h) for h in ("2026-03-08T04", "2026-03-08T05")] == [
        "2026-03-07",
        "2026-03-08",
    ]
    assert [new_york.day_of(h) for h in ("2026-03-09T03", "2026-03-09T04")] == [
        "2026-03-08",
        "2026-03-09",
    ]
    santiago = analytics.Filters(date(2026, 9, 5), date(2026, 9, 6), tz="America/Santiago")
    assert santiago.boundaries() == [
        "2026-09-05T04:00:00.000Z",
        "2026-09-06T04:00:00.000Z",
        "2026-09-07T03:00:00.000Z",
    ]
    assert not analytics.Filters(date(2026, 9, 5), date(2026, 9, 6), tz="Asia/Kolkata").hourly()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "no time zone"),
        ({"tz": "../../etc/passwd"}, "IANA time zone"),
        ({"tz": "/etc/localtime"}, "IANA time zone"),
        ({"tz": "Asia/" + "x" * 100}, "IANA time zone"),
        ({"tz": "utc"}, "no time zone"),
    ],
)
def test_bad_time_zones_say_what_is_wrong(query: dict[str, str], message: str) -> None:
    with pytest.raises(analytics.InvalidRange, match=message):
        parse_filters(query)


def test_time_zone_defaults_to_utc() -> None:
    assert parse_filters({}).tz == "UTC"
    seoul = parse_filters({"from": "2026-11-01", "to": "2026-11-02", "tz": "Asia/Seoul"})
    assert seoul == analytics.Filters(date(2026, 11, 1), date(2026, 11, 2), None, "Asia/Seoul")
