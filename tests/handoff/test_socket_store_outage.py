"""A websocket that says hello while the database is away (PostgreSQL restarting) is
told so and closed with 1013 "try again later", as an HTTP request gets 503 with
Retry-After: the widget and the console reconnect by themselves. Nothing is logged as a
crash: it is a wait, not a bug."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import asyncpg
import pytest

from handoff.web.app import SERVICE
from tests.handoff.test_request_models import Gateway, gateway  # noqa: F401 - the fixture


async def _database_away(*args: Any, **kwargs: Any) -> Any:
    raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")


def _no_crash(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]


async def test_a_customer_hello_during_a_database_outage_is_told_to_retry(
    gateway: Gateway,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = gateway.client.app[SERVICE].store
    monkeypatch.setattr(store, "check_token", _database_away)
    token = gateway.customer["Authorization"].removeprefix("Bearer ")
    with caplog.at_level(logging.INFO):
        async with gateway.client.ws_connect(
            f"/api/conversations/{gateway.conversation_id}/ws"
        ) as ws:
            await ws.send_json({"type": "hello", "token": token, "last_seq": 0})
            frame = await ws.receive_json(timeout=5)
            closing = await ws.receive(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "store_unavailable", frame
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1013
    _no_crash(caplog)


async def test_an_agent_hello_during_a_database_outage_is_told_to_retry(
    gateway: Gateway,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handoffs = gateway.client.app[SERVICE].handoff.handoffs
    monkeypatch.setattr(handoffs, "agent_for_token", _database_away)
    token = gateway.lead["Authorization"].removeprefix("Bearer ")
    with caplog.at_level(logging.INFO):
        async with gateway.client.ws_connect("/api/agent/ws") as ws:
            await ws.send_json({"type": "hello", "token": token})
            frame = await ws.receive_json(timeout=5)
            closing = await ws.receive(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "store_unavailable", frame
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1013
    _no_crash(caplog)
