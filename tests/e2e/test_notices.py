"""Notices for outages and maintenance on the real stack (a gateway of this module's own on
the live stack's Rasa and action server: a notice here must not reach other tests'
greetings and shipping answers). A supervisor posts a notice on shipping in ko, ja and en:
GET /api/notices shows it per language, a shipping question gets the notice line before the
answer (once per conversation), the greeting mentions it, and ending it takes it off
/api/notices and tells connected customers at once; a window posted for later starts and
ends by the clock alone; hostile input is a 4xx JSON naming the field, never a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer
from tests.e2e.isolated import add_agent, gateway_beside
from tests.e2e.test_websocket import frames_until, open_socket

pytestmark = pytest.mark.e2e

PASSWORD = "notices-password-5"
SUPERVISOR = "nadia"
AGENT = "abel"
LOG_NAME = "notices-gateway"
NOTICE = {
    "ko": "택배사 사정으로 오늘 배송이 하루 늦어지고 있어요.",
    "ja": "配送業者の都合により、本日の配送が1日遅れています。",
    "en": "Deliveries are running a day late today because of our courier.",
}
SHIPPING = {
    "ko": "배송 얼마나 걸려요?",
    "ja": "配送にどのくらいかかりますか",
    "en": "how long does shipping take",
}
GREETING = {"ko": "안녕하세요", "ja": "こんにちは", "en": "hello"}


@pytest.fixture(scope="module")
def own_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway with its own database (so its own notices), a supervisor and an agent."""
    state = tmp_path_factory.mktemp("notices-gateway")
    settings = live_stack.settings.replace(db_path=state / "handoff.sqlite3")
    add_agent(settings, SUPERVISOR, PASSWORD, "--role", "supervisor")
    with gateway_beside(live_stack.settings, state, LOG_NAME, agents=[(AGENT, PASSWORD)]) as url:
        yield url


def log_path(live_stack: Stack) -> Path:
    return live_stack.settings.log_dir / f"{LOG_NAME}.log"


def shipping_notice(**changes: Any) -> dict[str, Any]:
    return {"text": dict(NOTICE), "topics": ["shipping"], "severity": "outage", **changes}


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def notices_in(session: aiohttp.ClientSession, url: str, language: str) -> list[Any]:
    async with session.get(f"{url}/api/notices", params={"language": language}) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    assert body["language"] == language
    return list(body["notices"])


def notice_frames(frames: list[dict[str, Any]]) -> list[list[str]]:
    return [[n["id"] for n in f["notices"]] for f in frames if f["type"] == "notices"]


async def test_hostile_notices_are_refused_naming_the_field(
    own_gateway: str, live_stack: Stack
) -> None:
    url = own_gateway
    logged_before = log_path(live_stack).stat().st_size
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login(SUPERVISOR, PASSWORD)
        agent = await AgentClient(session, url).login(AGENT, PASSWORD)
        path = "/api/supervisor/notices"
        refused: list[tuple[Any, str, str]] = [
            ({"text": {"ko": "가", "ja": "あ"}}, "bad_request", "'text.en' is required"),
            (
                {"text": {**NOTICE, "ja": "あ" * 501}},
                "bad_request",
                "'text.ja' must be at most 500",
            ),
            ({"text": {**NOTICE, "en": " \u3000"}}, "bad_request", "'text.en'"),
            ({"text": "closed today"}, "bad_request", "'text'"),
            (
                shipping_notice(starts_at=later(3600), ends_at=later(60)),
                "bad_request",
                "'ends_at' must be after 'starts_at'",
            ),
            (shipping_notice(starts_at="2026-02-30T10:00:00Z"), "bad_request", "'starts_at'"),
            (shipping_notice(ends_at="tomorrow"), "bad_request", "'ends_at' must be a date"),
            (shipping_notice(ends_at="2026-12-31T10:00:00"), "bad_request", "time zone"),
            (shipping_notice(ends_at=later(-60)), "ends_in_the_past", "'ends_at' is past"),
            (shipping_notice(topics=["shiping"]), "unknown_topic", "known topics: "),
            (shipping_notice(topics="shipping"), "bad_request", "'topics'"),
            (shipping_notice(severity="panic"), "bad_request", "'severity' must be one of"),
            (shipping_notice(colour="red"), "bad_request", "unknown field colour"),
        ]
        for body, code, says in refused:
            status, answer = await lead.call("POST", path, body)
            assert status == 400, (body, answer)
            assert answer["error"]["code"] == code, answer
            assert says in answer["error"]["message"], answer
        status, answer = await lead.call("POST", path, shipping_notice(topics=["shiping"]))
        assert "shipping" in answer["error"]["message"].split("known topics: ")[1].split(", ")

        async with session.post(
            f"{url}{path}", data=b"{not json", headers={**lead.headers, "Content-Type": "x"}
        ) as r:
            assert r.status == 400 and (await r.json())["error"]["message"]
        async with session.post(f"{url}{path}", data=b"x" * 70_000, headers=lead.headers) as r:
            assert r.status == 413
        # who may: supervisors only
        assert (await agent.call("POST", path, shipping_notice()))[0] == 403
        assert (await agent.call("GET", path))[0] == 403
        async with session.post(f"{url}{path}", json=shipping_notice()) as r:
            assert r.status == 401
        for notice_id in ("n-nothere", "../../x", "%00", "é" * 80):
            status, answer = await lead.call("POST", f"{path}/{notice_id}/end")
            assert status == 404 and answer["error"]["code"] == "not_found", notice_id
        async with session.get(f"{url}/api/notices", params={"language": "fr"}) as r:
            assert r.status == 400 and "'language'" in (await r.json())["error"]["message"]
        # nothing refused was kept
        status, listed = await lead.call("GET", path)
        assert status == 200 and listed["notices"] == []
        assert {"shipping", "payment", "tracking"} <= set(listed["topics"])
    logged = log_path(live_stack).read_bytes()[logged_before:].decode("utf-8", "replace")
    assert "Traceback" not in logged


async def test_a_notice_is_shown_said_and_ended_live_in_each_language(own_gateway: str) -> None:
    url = own_gateway
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login(SUPERVISOR, PASSWORD)
        # a customer already chatting when the notice is posted
        watcher = await Customer(session, url).start("ko")
        ws = await open_socket(session, url, watcher)
        await frames_until(ws, lambda f, _: f["type"] == "ready")

        status, posted = await lead.call("POST", "/api/supervisor/notices", shipping_notice())
        assert status == 201, posted
        notice_id = posted["id"]
        assert posted["status"] == "active" and posted["created_by"] == SUPERVISOR
        assert posted["text"] == NOTICE and posted["topics"] == ["shipping"]
        frames = await frames_until(ws, lambda f, _: f["type"] == "notices", timeout=10)
        assert notice_frames(frames) == [[notice_id]]
        assert frames[-1]["notices"][0]["text"] == NOTICE  # the widget picks its language
        # Closed while the conversations below run: nobody reads it, so its pings would go
        # unanswered and the gateway would drop it.
        await ws.close()

        for language in ("ko", "ja", "en"):
            shown = await notices_in(session, url, language)
            assert [(n["id"], n["text"], n["severity"]) for n in shown] == [
                (notice_id, NOTICE[language], "outage")
            ]

            # a shipping question: the notice line, then the answer; only the first time
            asking = await Customer(session, url).start(language)
            replies = (await asking.say(SHIPPING[language]))["replies"]
            said = [(r["role"], r["text"]) for r in replies]
            assert said[0] == ("system", NOTICE[language]), said
            assert said[1][0] == "bot" and said[1][1] != NOTICE[language], said
            again = (await asking.say(SHIPPING[language]))["replies"]
            assert NOTICE[language] not in [r["text"] for r in again], again
            assert again and again[0]["role"] == "bot"

            # the greeting mentions it, after the bot's own words
            greeted = await Customer(session, url).start(language)
            replies = (await greeted.say(GREETING[language]))["replies"]
            said = [(r["role"], r["text"]) for r in replies]
            assert said[0][0] == "bot" and said[-1] == ("system", NOTICE[language]), said

        # a socket opening while the notice is in force is told at once
        ws = await open_socket(session, url, watcher)
        frames = await frames_until(ws, lambda f, _: f["type"] == "notices", timeout=10)
        assert notice_frames(frames) == [[notice_id]]
        status, ended = await lead.call("POST", f"/api/supervisor/notices/{notice_id}/end")
        assert status == 200 and ended["status"] == "ended" and ended["ended_by"] == SUPERVISOR
        frames = await frames_until(ws, lambda f, _: f["type"] == "notices", timeout=10)
        assert notice_frames(frames) == [[]]  # the banner goes at once
        await ws.close()
        for language in ("ko", "ja", "en"):
            assert await notices_in(session, url, language) == []
        # ending it again changes nothing
        status, again = await lead.call("POST", f"/api/supervisor/notices/{notice_id}/end")
        assert status == 200 and again["ends_at"] == ended["ends_at"]
        after = await Customer(session, url).start("en")
        replies = (await after.say(SHIPPING["en"]))["replies"]
        assert NOTICE["en"] not in [r["text"] for r in replies]
        assert (await lead.call("GET", "/api/supervisor/notices"))[1]["notices"] == []


async def test_a_window_starts_and_ends_by_the_clock_alone(own_gateway: str) -> None:
    url = own_gateway
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login(SUPERVISOR, PASSWORD)
        customer = await Customer(session, url).start("ja")
        ws = await open_socket(session, url, customer)
        await frames_until(ws, lambda f, _: f["type"] == "ready")
        window = {"text": dict(NOTICE), "starts_at": later(3), "ends_at": later(9)}
        status, posted = await lead.call("POST", "/api/supervisor/notices", window)
        assert status == 201 and posted["status"] == "scheduled", posted
        listed = (await lead.call("GET", "/api/supervisor/notices"))[1]["notices"]
        assert [(n["id"], n["status"]) for n in listed] == [(posted["id"], "scheduled")]
        assert await notices_in(session, url, "ja") == []

        started = await frames_until(ws, lambda f, _: f["type"] == "notices", timeout=15)
        assert notice_frames(started) == [[posted["id"]]]
        assert [n["text"] for n in await notices_in(session, url, "ja")] == [NOTICE["ja"]]
        ended = await frames_until(ws, lambda f, _: f["type"] == "notices", timeout=15)
        assert notice_frames(ended) == [[]]
        assert await notices_in(session, url, "ja") == []
        await ws.close()
        await asyncio.sleep(0)
