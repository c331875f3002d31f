"""Agents' availability on the real stack, in ko, ja and en: an agent who sets away is
offered no new chats and cannot accept one while a colleague can, keeps working a chat
they have, and takes the next one once online again; the console's websocket and the
supervisors' live view follow; signing out is offline at once. Hostile bodies are 4xx
JSON, never a 500 or a traceback in the gateway's log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, next_frame
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_notes import raw

pytestmark = pytest.mark.e2e

PASSWORD = "availability-password-3"
# Agents of this module only: username -> role. Both agents speak ko, ja and en.
PEOPLE = {"ava": "agent", "ben": "agent", "sue": "supervisor"}
PATH = "/api/agent/availability"


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, role in PEOPLE.items():
        options = ("--role", role, "--languages", "ko,ja,en", "--capacity", "3")
        add_agent(live_stack.settings, username, PASSWORD, *options)
    return {username: PASSWORD for username in PEOPLE}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def live_availability(sue: AgentClient) -> dict[str, str]:
    status, view = await sue.call("GET", "/api/agent/live")
    assert status == 200, view
    return {a["username"]: a["availability"] for a in view["agents"]}


async def asks_for_a_person(session: aiohttp.ClientSession, url: str, language: str) -> str:
    [(_, question, ask_person, *_)] = [flow for flow in FLOWS if flow[0] == language]
    customer = await Customer(session, url).start(language)
    await customer.say(question)
    answer = await customer.say(ask_person)
    assert answer["state"] == "queued", answer
    return customer.conversation_id


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_an_away_agent_gets_no_new_chats_and_keeps_the_ones_they_have(
    live_stack: Stack,
    people: dict[str, str],
    session: aiohttp.ClientSession,
    language: str,
) -> None:
    url = live_stack.settings.gateway_url
    async with session.post(
        f"{url}/api/agent/login", json={"username": "ava", "password": PASSWORD}
    ) as response:
        signed_in = await response.json()
    assert signed_in["agent"]["availability"] == "online"  # the sign-in answer says it
    ava = AgentClient(session, url)
    ava.token = signed_in["token"]
    ben = await AgentClient(session, url).login("ben", PASSWORD)
    sue = await AgentClient(session, url).login("sue", PASSWORD)
    ws = await session.ws_connect(f"{url}/api/agent/ws")
    try:
        await ws.send_json({"type": "hello", "token": ava.token})
        ready = await next_frame(ws, lambda f: f["type"] == "ready")
        assert ready["agent"]["availability"] == "online"

        # ava has a chat; then she sets away
        first = await asks_for_a_person(session, url, language)
        assert (await ava.accept(first))[0] == 200
        assert await ava.call("PUT", PATH, {"availability": "away"}) == (
            200,
            {"availability": "away"},
        )
        assert await next_frame(ws, lambda f: f["type"] == "availability") == {
            "type": "availability",
            "availability": "away",
        }
        # a reload (a new console) is told too
        async with session.ws_connect(f"{url}/api/agent/ws") as again:
            await again.send_json({"type": "hello", "token": ava.token})
            ready = await next_frame(again, lambda f: f["type"] == "ready")
            assert ready["agent"]["availability"] == "away"
        assert (await live_availability(sue))["ava"] == "away"

        # a new chat: not offered to ava, nor hers to take; ben takes it
        second = await asks_for_a_person(session, url, language)
        assert second in [item["conversation_id"] for item in await ben.queue()]
        assert await ava.queue() == []
        status, refused = await ava.accept(second)
        assert (status, refused["error"]["code"]) == (409, "not_available")
        # ... while she still works the chat she has
        assert (await ava.write(first, "잠시만요 / 少々お待ちください / one moment"))[0] == 201
        assert (await ben.accept(second))[0] == 200

        # busy is no new chats either, and shown as busy
        assert (await ava.call("PUT", PATH, {"availability": "busy"}))[0] == 200
        assert (await live_availability(sue))["ava"] == "busy"
        third = await asks_for_a_person(session, url, language)
        assert await ava.queue() == []
        assert (await ava.accept(third))[0] == 409

        # online again: the queue is hers again, and so is the next chat
        assert (await ava.call("PUT", PATH, {"availability": "online"}))[0] == 200
        assert third in [item["conversation_id"] for item in await ava.queue()]
        assert (await ava.accept(third))[0] == 200
        assert (await live_availability(sue))["ava"] == "online"
        for conversation_id in (first, third):
            assert (await ava.resolve(conversation_id))[0] == 200
        assert (await ben.resolve(second))[0] == 200
    finally:
        await ws.close()

    # signed out: offline at once, not after the grace period
    for agent in (ava, ben):
        assert (await agent.call("POST", "/api/agent/logout"))[0] == 204
    shown = await live_availability(sue)
    assert (shown["ava"], shown["ben"]) == ("offline", "offline")


async def test_hostile_availability_bodies_get_json_errors(
    live_stack: Stack, people: dict[str, str], session: aiohttp.ClientSession
) -> None:
    url = live_stack.settings.gateway_url
    ben = await AgentClient(session, url).login("ben", PASSWORD)
    bodies: list[tuple[bytes, int, str]] = [
        (b'{"availability": "lunch"}', 400, "'availability' must be one of online, away, busy"),
        (b'{"availability": "offline"}', 400, "must be one of online, away, busy"),
        (b'{"availability": "ONLINE"}', 400, "must be one of"),
        (b'{"availability": 1}', 400, "'availability'"),
        (b'{"availability": null}', 400, "'availability'"),
        (b'{"availability": ["away"]}', 400, "'availability'"),
        (b'{"availability": {"now": "away"}}', 400, "'availability'"),
        (b'{"status": "away"}', 400, "unknown field status"),
        (b'{"availability": "away", "until": "17:00"}', 400, "unknown field until"),
        (b"{}", 400, "'availability' is required"),
        (b'["away"]', 400, "object"),
        (b'"away"', 400, "object"),
        (b'{"availability": "away"', 400, "JSON"),
        (b'{"availability": "\\ud800"}', 400, "surrogate"),
        (b"\xff\xfe not utf-8", 400, "UTF-8"),
        (json.dumps({"availability": "a" * 5000}).encode(), 400, "must be one of"),
        (json.dumps({"availability": "away", "pad": "x" * 70_000}).encode(), 413, "larger"),
    ]
    for body, expected, says in bodies:
        status, kind, answer = await raw(session, "PUT", url + PATH, ben.token, body)
        assert (status, kind) == (expected, "application/json"), (body[:40], answer)
        assert says in answer["error"]["message"], (body[:40], answer)
    # nothing of it was stored
    async with session.post(
        f"{url}/api/agent/login", json={"username": "ben", "password": PASSWORD}
    ) as response:
        assert (await response.json())["agent"]["availability"] == "online"

    # no session, or one that is not ours: 401 JSON, whatever the body
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        async with session.put(url + PATH, json={"availability": "away"}, headers=headers) as r:
            answer: Any = await r.json()
            assert (r.status, r.content_type) == (401, "application/json"), answer
            assert answer["error"]["code"] == "unauthorized"
    # only PUT: a 405 that says so
    async with session.post(url + PATH, json={"availability": "away"}, headers=ben.headers) as r:
        assert (r.status, r.headers.get("Allow")) == (405, "PUT")
    assert (await ben.call("POST", "/api/agent/logout"))[0] == 204

    log = live_stack.log_path("gateway").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, "a client's input left a traceback in the gateway's log"
