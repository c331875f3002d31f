"""The web edge on the real stack: customer rate limits, security headers, the Origin
allowlist, `Allow` on 405, and one rating per handoff.

The limits are tested on a second gateway with tiny limits, started beside the shared
stack's gateway and talking to the same Rasa. The test customers are on this machine,
which the limits per client address do not count; a customer from elsewhere comes as a
reverse proxy here would forward them (`STRANGER`: tests/e2e/isolated.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, handed_to
from tests.e2e.isolated import STRANGER, gateway_beside
from tests.e2e.test_websocket import frames_until, open_socket

pytestmark = pytest.mark.e2e

SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture(scope="module")
def strict_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second gateway (own port and database, the shared Rasa) with tiny limits and
    configured origins."""
    state = tmp_path_factory.mktemp("strict-gateway")
    with gateway_beside(
        live_stack.settings,
        state,
        "strict-gateway",
        # A burst of two, then one every 30 s: slow enough that no token comes back while
        # the bot answers the first two, even on a busy machine (the burst is capped at
        # the per-minute limit, so 2 is the least that allows two in a row).
        messages_per_conversation_per_minute=2,
        message_burst=2,
        conversations_per_address_per_minute=10,
        websockets_per_address=2,
        allowed_origins=SHOP,
        widget_frame_origins=SHOP,
    ) as url:
        yield url


async def transcript_texts(customer: Customer) -> list[str]:
    return [m["text"] for m in (await customer.transcript())["messages"] if m["role"] == "customer"]


# -- 1. rate limits ---------------------------------------------------------------------


async def test_new_conversations_per_address_are_limited(strict_gateway: str) -> None:
    async with aiohttp.ClientSession() as session:
        statuses = []
        url = f"{strict_gateway}/api/conversations"
        for _ in range(12):
            async with session.post(url, json={}, headers=STRANGER) as r:
                statuses.append(r.status)
                if r.status == 429:
                    refused = await r.json()
                    retry_after = int(r.headers["Retry-After"])
        # 10 a minute (other tests here may have used some): then refused, and stays so
        assert statuses.count(201) <= 10 and statuses.count(429) >= 2
        assert statuses == sorted(statuses, key=lambda status: status == 429)
        assert refused["error"]["code"] == "rate_limited"
        assert 1 <= retry_after <= 6  # the next in 6 s at most
        # A client on the gateway's own machine (a script, a benchmark: every test
        # customer) is not counted per address, even now.
        local = []
        for _ in range(12):
            async with session.post(url, json={}) as r:
                local.append(r.status)
        assert local == [201] * 12


async def test_messages_per_conversation_are_limited_and_refusals_not_stored(
    strict_gateway: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = Customer(session, strict_gateway)
        customer.conversation_id, customer.token = await _fresh_conversation(strict_gateway)
        url = f"{strict_gateway}/api/conversations/{customer.conversation_id}/messages"
        results = []
        for text in ("hello", "hi there", "are you there"):
            async with session.post(url, json={"text": text}, headers=customer.headers) as r:
                results.append((r.status, r.headers.get("Retry-After"), await r.json()))
        assert [status for status, _, _ in results[:2]] == [200, 200]
        status, retry_after, body = results[2]
        assert status == 429, body
        assert retry_after is not None and 1 <= int(retry_after) <= 60
        assert body["error"]["code"] == "rate_limited"
        assert await transcript_texts(customer) == ["hello", "hi there"]

        # the socket shares the budget; its refusal is a frame the widget shows as
        # "slow down" and does not resend (a client_id, not `temporary`)
        ws = await open_socket(session, strict_gateway, customer)
        await frames_until(ws, lambda f, _: f["type"] == "ready")
        await ws.send_json({"type": "message", "text": "hello again", "client_id": "c-1"})
        frames = await frames_until(ws, lambda f, _: f["type"] == "error")
        await ws.close()
        assert frames[-1]["code"] == "rate_limited"
        assert frames[-1]["client_id"] == "c-1"
        assert frames[-1]["retry_after"] >= 1
        assert not [f for f in frames if f["type"] == "ack"]
        assert await transcript_texts(customer) == ["hello", "hi there"]


async def test_open_websockets_per_address_are_limited(strict_gateway: str) -> None:
    async with aiohttp.ClientSession() as session:
        conversation_id, _ = await _fresh_conversation(strict_gateway)
        url = f"{strict_gateway}/api/conversations/{conversation_id}/ws"
        first = await session.ws_connect(url, headers=STRANGER)
        second = await session.ws_connect(url, headers=STRANGER)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url, headers=STRANGER)
        assert refused.value.status == 429
        assert refused.value.headers is not None and "Retry-After" in refused.value.headers
        await first.close()
        for _ in range(50):  # the slot comes back once the server has seen the close
            try:
                third = await session.ws_connect(url, headers=STRANGER)
                break
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("a closed socket's slot never came back")
        # from this machine, more than the limit at once
        local = [await session.ws_connect(url) for _ in range(3)]
        await second.close()
        await third.close()
        for socket in local:
            await socket.close()


async def _fresh_conversation(gateway: str) -> tuple[str, str]:
    """A conversation on the strict gateway (from this machine: no per-address limit)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway}/api/conversations", json={}) as r,
    ):
        assert r.status == 201, await r.text()
        data = await r.json()
        return data["conversation_id"], data["token"]


# -- 2. security headers --------------------------------------------------------------


def _directives(csp: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in csp.split(";")
        if part.strip()
    }


async def _headers(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.headers


async def test_every_response_has_security_headers(gateway_url: str) -> None:
    for path in ("/", "/agent", "/api/openapi.json", "/static/widget.js", "/no-such-page"):
        headers = await _headers(gateway_url + path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert "Content-Security-Policy" in headers, path
        assert headers["Server"] == "support-assistant", path  # no aiohttp version

    widget = _directives((await _headers(gateway_url + "/"))["Content-Security-Policy"])
    console_headers = await _headers(gateway_url + "/agent")
    console = _directives(console_headers["Content-Security-Policy"])
    for policy in (widget, console):
        # our own files only: no inline script or style, nothing from elsewhere
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert policy["default-src"] == "'none'"
        assert "unsafe-inline" not in str(policy)
    assert console["frame-ancestors"] == "'none'"
    assert console_headers["X-Frame-Options"] == "DENY"
    assert widget["frame-ancestors"] == "'self'"
    assert (await _headers(gateway_url + "/"))["X-Frame-Options"] == "SAMEORIGIN"
    api = _directives(
        (await _headers(gateway_url + "/api/openapi.json"))["Content-Security-Policy"]
    )
    assert api["default-src"] == "'none'" and api["frame-ancestors"] == "'none'"


async def test_widget_embedding_origins_are_configurable(strict_gateway: str) -> None:
    widget = await _headers(strict_gateway + "/")
    assert _directives(widget["Content-Security-Policy"])["frame-ancestors"] == f"'self' {SHOP}"
    assert "X-Frame-Options" not in widget  # it cannot name the shop: CSP decides
    console = await _headers(strict_gateway + "/agent")
    assert _directives(console["Content-Security-Policy"])["frame-ancestors"] == "'none'"


# -- 3. Origin allowlist --------------------------------------------------------------


async def test_websockets_refuse_foreign_origins(gateway_url: str, strict_gateway: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        customer_ws = f"{gateway_url}/api/conversations/{customer.conversation_id}/ws"
        for url in (customer_ws, f"{gateway_url}/api/agent/ws"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url, origin=EVIL)
            assert refused.value.status == 403, url
            for origin in (gateway_url, None):  # its own pages, and non-browser clients
                ws = await session.ws_connect(url, origin=origin)
                await ws.close()
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(customer_ws, origin="null")

        # a configured origin may, on the gateway that lists it
        conversation_id, token = await _fresh_conversation(strict_gateway)
        ws = await session.ws_connect(
            f"{strict_gateway}/api/conversations/{conversation_id}/ws", origin=SHOP
        )
        await ws.send_json({"type": "hello", "token": token, "last_seq": 0})
        assert (await ws.receive_json(timeout=10))["type"] == "ready"
        await ws.close()


async def test_agent_posts_refuse_foreign_origins(gateway_url: str) -> None:
    login = {"username": "nobody", "password": "wrong-password"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{gateway_url}/api/agent/login", json=login, headers={"Origin": EVIL}
        ) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "forbidden_origin"
        for headers in ({"Origin": gateway_url}, {}):
            async with session.post(
                f"{gateway_url}/api/agent/login", json=login, headers=headers
            ) as r:
                assert r.status == 401  # past the Origin check, refused for the password
        # reading is not checked (a GET changes nothing), the customer API neither
        async with session.get(f"{gateway_url}/agent", headers={"Origin": EVIL}) as r:
            assert r.status == 200


# -- 4. 405 carries Allow ---------------------------------------------------------------


async def test_method_not_allowed_says_which_methods_are(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{gateway_url}/healthz") as r:
            assert r.status == 405
            assert set(r.headers["Allow"].split(",")) >= {"GET"}
            assert (await r.json())["error"]["code"] == "method_not_allowed"
        async with session.delete(f"{gateway_url}/api/conversations") as r:
            assert r.status == 405
            assert r.headers["Allow"] == "POST"


# -- 5. one rating per handoff ----------------------------------------------------------


async def test_a_second_rating_replaces_the_first(
    live_stack: Stack, agents: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        customer = await Customer(session, url).start(id=f"rating-{uuid.uuid4().hex[:8]}")
        await handed_to(agent, customer, "talk to a human")
        status, _ = await agent.resolve(customer.conversation_id)
        assert status == 200
        question = (await customer.transcript())["messages"][-1]
        payloads = {b["title"]: b["payload"] for b in question["buttons"]}
        await customer.say("4", payload=payloads["4"])
        await customer.say("2", payload=payloads["2"])

    with sqlite3.connect(Path(live_stack.settings.db_path)) as db:
        ratings = db.execute(
            "SELECT rating, agent FROM ratings WHERE conversation_id = ?",
            (customer.conversation_id,),
        ).fetchall()
    assert ratings == [(2, "alice")]
