"""The widget's websocket: ack after persist, typing, replies, resend and catch-up."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e


async def open_socket(
    session: aiohttp.ClientSession, gateway_url: str, customer: Customer, last_seq: int = 0
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{gateway_url}/api/conversations/{customer.conversation_id}/ws")
    await ws.send_json({"type": "hello", "token": customer.token, "last_seq": last_seq})
    return ws


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse, done: Any, timeout: float = 20.0
) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.receive_json()
            frames.append(frame)
            if done(frame, frames):
                return frames


def bot_replies(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "message" and f["role"] == "bot"]


@pytest.mark.parametrize(
    ("language", "greeting", "question"),
    [
        ("ko", "안녕하세요~", "환불 언제 들어와요?"),
        ("ja", "こんにちは", "返金はいつ頃になりますか"),
        ("en", "hello!!", "when will my refund come through"),
    ],
)
async def test_conversation_over_websocket(
    gateway_url: str, language: str, greeting: str, question: str
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        ws = await open_socket(session, gateway_url, customer)
        assert (await ws.receive_json())["type"] == "ready"

        await ws.send_json({"type": "message", "client_id": "m1", "text": greeting})
        frames = await frames_until(ws, lambda f, _: f == {"type": "typing", "on": False})
        await ws.send_json({"type": "message", "client_id": "m2", "text": question})
        frames += await frames_until(ws, lambda f, _: f == {"type": "typing", "on": False})
        await ws.close()

    types = [f["type"] for f in frames]
    # the ack (message stored) comes before the bot starts typing
    assert types.index("ack") < types.index("typing")
    assert {f["client_id"]: f["seq"] for f in frames if f["type"] == "ack"} == {"m1": 1, "m2": 3}
    replies = bot_replies(frames)
    assert detect_language(replies[0]["text"]) == language
    assert len(replies) >= 2 and all(detect_language(r["text"]) == language for r in replies)


async def test_resend_after_drop_is_not_duplicated_and_reconnect_catches_up(
    gateway_url: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        ws = await open_socket(session, gateway_url, customer)
        await ws.receive_json()  # ready
        await ws.send_json({"type": "message", "client_id": "same", "text": "안녕하세요"})
        await frames_until(ws, lambda f, _: f["type"] == "ack")
        await ws.close()  # dropped before the reply arrived on this socket

        # Reconnect as the widget does: it had rendered nothing, and resends.
        ws = await open_socket(session, gateway_url, customer, last_seq=0)
        frames = await frames_until(ws, lambda f, fs: len(bot_replies(fs)) >= 1)
        await ws.send_json({"type": "message", "client_id": "same", "text": "안녕하세요"})
        ack = (await frames_until(ws, lambda f, _: f["type"] == "ack"))[-1]
        await ws.close()
        transcript = await customer.transcript()

    assert ack["seq"] == 1
    assert [m["role"] for m in transcript["messages"]] == ["customer", "bot"]
    assert bot_replies(frames)[0]["seq"] == 2  # caught up from the store


async def test_socket_with_a_wrong_token_is_refused(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        ws = await session.ws_connect(
            f"{gateway_url}/api/conversations/{customer.conversation_id}/ws"
        )
        await ws.send_json({"type": "hello", "token": "wrong", "last_seq": 0})
        frame = await ws.receive_json()
        closing = await ws.receive()
    assert frame["type"] == "error" and frame["code"] == "unauthorized"
    assert closing.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}


async def test_oversized_socket_message_is_refused_with_a_reason(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        ws = await open_socket(session, gateway_url, customer)
        await ws.receive_json()
        await ws.send_json({"type": "message", "client_id": "big", "text": "가" * 2500})
        frame = await ws.receive_json()
        await ws.close()
        transcript = await customer.transcript()
    assert frame["type"] == "error" and frame["client_id"] == "big"
    assert "2000" in frame["message"]
    assert transcript["messages"] == []


async def test_a_lone_surrogate_over_the_socket_is_refused_not_retried(gateway_url: str) -> None:
    """Refused with its client_id (so the widget marks it failed instead of resending it
    forever), and nothing stored."""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        ws = await open_socket(session, gateway_url, customer)
        await ws.receive_json()
        await ws.send_str('{"type": "message", "client_id": "odd", "text": "hi \\ud800"}')
        frame = await ws.receive_json()
        await ws.close()
        transcript = await customer.transcript()
    assert frame["type"] == "error" and frame["code"] == "bad_frame"
    assert frame["client_id"] == "odd"
    assert "lone surrogate" in frame["message"]
    assert transcript["messages"] == []
