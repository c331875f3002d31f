"""A tiny customer client for the gateway's HTTP API, used by tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp


class Customer:
    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.conversation_id = ""
        self.token = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def start(self, language: str | None = None, **customer: str) -> Customer:
        body: dict[str, Any] = {"customer": customer} if customer else {}
        if language:
            body["language"] = language
        async with self.session.post(f"{self.base_url}/api/conversations", json=body) as r:
            assert r.status == 201, await r.text()
            data = await r.json()
        self.conversation_id, self.token = data["conversation_id"], data["token"]
        return self

    async def say(self, text: str | None = None, payload: str | None = None) -> dict[str, Any]:
        body = {"text": text} if payload is None else {"payload": payload, "text": text}
        async with self.session.post(
            f"{self.base_url}/api/conversations/{self.conversation_id}/messages",
            json=body,
            headers=self.headers,
        ) as r:
            assert r.status == 200, await r.text()
            result: dict[str, Any] = await r.json()
            return result

    async def transcript(self) -> dict[str, Any]:
        async with self.session.get(
            f"{self.base_url}/api/conversations/{self.conversation_id}", headers=self.headers
        ) as r:
            assert r.status == 200, await r.text()
            result: dict[str, Any] = await r.json()
            return result

    async def ask_for_a_person(self, *lines: str) -> dict[str, Any]:
        """Say `lines` in turn, the last one asking for a person: the chat is queued for an
        agent. Returns the reply to that last line (it tells the customer they wait)."""
        *before, ask_person = lines
        for line in before:
            await self.say(line)
        escalation = await self.say(ask_person)
        assert escalation["state"] == "queued", escalation
        return escalation

    async def socket_from_now(self) -> aiohttp.ClientWebSocketResponse:
        """The conversation's websocket, "ready" read, from now on: what the customer was
        told so far is not replayed (it resumes after the transcript's last message)."""
        seen = (await self.transcript())["messages"]
        ws = await self.session.ws_connect(
            f"{self.base_url}/api/conversations/{self.conversation_id}/ws"
        )
        await ws.send_json({"type": "hello", "token": self.token, "last_seq": seen[-1]["seq"]})
        await next_frame(ws, lambda frame: frame["type"] == "ready", timeout=20.0)
        return ws


class AgentClient:
    """An agent signed in to the gateway's agent API."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.token = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self, username: str, password: str) -> AgentClient:
        async with self.session.post(
            f"{self.base_url}/api/agent/login", json={"username": username, "password": password}
        ) as r:
            assert r.status == 200, await r.text()
            self.token = (await r.json())["token"]
        return self

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(
            method, f"{self.base_url}{path}", json=body, headers=self.headers
        ) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)

    async def queue(self) -> list[dict[str, Any]]:
        status, items = await self.call("GET", "/api/agent/queue")
        assert status == 200, items
        return list(items)

    async def accept(self, conversation_id: str) -> tuple[int, Any]:
        return await self.call("POST", f"/api/agent/conversations/{conversation_id}/accept")

    async def write(self, conversation_id: str, text: str) -> tuple[int, Any]:
        return await self.call(
            "POST", f"/api/agent/conversations/{conversation_id}/messages", {"text": text}
        )

    async def resolve(self, conversation_id: str) -> tuple[int, Any]:
        return await self.call("POST", f"/api/agent/conversations/{conversation_id}/resolve")


async def handed_to(
    agent: AgentClient,
    customer: Customer,
    *lines: str,
    console: aiohttp.ClientWebSocketResponse | None = None,
) -> dict[str, Any]:
    """The set-up of every chat with a person: `customer` (a started conversation) says
    `lines`, the last one asking for a person, and is queued; `agent` accepts the chat.
    With `console` (the agent's console socket), the chat must first reach that console's
    queue, as it does before a person can pick it there. Returns the agent's view of the
    chat (transcript, customer, notes, labels...)."""
    await customer.ask_for_a_person(*lines)
    if console is not None:
        await next_frame(console, lambda frame: queue_brings(frame, customer.conversation_id))
    return await accepted(agent, customer)


async def accepted(agent: AgentClient, customer: Customer) -> dict[str, Any]:
    """`agent` accepts `customer`'s queued chat, which must succeed: the second half of
    `handed_to`, for tests that look at the waiting chat (or break something) before an
    agent takes it. Returns the agent's view of the chat."""
    status, view = await agent.accept(customer.conversation_id)
    assert status == 200, view
    return dict(view)


async def agent_socket(
    session: aiohttp.ClientSession, url: str, agent: AgentClient
) -> aiohttp.ClientWebSocketResponse:
    """`agent`'s console websocket on the gateway at `url`: signed in, "ready" read."""
    ws = await session.ws_connect(f"{url}/api/agent/ws")
    await ws.send_json({"type": "hello", "token": agent.token})
    await next_frame(ws, lambda frame: frame["type"] == "ready", timeout=20.0)
    return ws


async def next_frame(
    ws: aiohttp.ClientWebSocketResponse,
    wanted: Callable[[dict[str, Any]], bool],
    timeout: float = 45.0,
) -> dict[str, Any]:
    """The next frame on `ws` that `wanted` accepts (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if wanted(frame):
                return frame


def queue_brings(frame: dict[str, Any], conversation_id: str) -> bool:
    """Whether a console frame puts `conversation_id` in the queue: a whole queue that
    lists it, or a delta that adds (or changes) it."""
    items = {"queue": frame.get("items"), "queue_delta": frame.get("upsert")}.get(frame["type"])
    return conversation_id in [item["conversation_id"] for item in items or []]


async def say_until_acknowledged(customer: Customer, text: str) -> tuple[dict[str, Any], int]:
    """Send as the widget does while the gateway answers 503 (its database away) or the
    connection breaks: the same client_id again until acknowledged. Returns the reply and
    how many times it was refused; a refusal is always a 503 store_unavailable with
    Retry-After."""
    client_id = secrets.token_hex(8)
    refused = 0
    async with asyncio.timeout(120):
        while True:
            try:
                async with customer.session.post(
                    f"{customer.base_url}/api/conversations/{customer.conversation_id}/messages",
                    json={"text": text, "client_id": client_id},
                    headers=customer.headers,
                ) as response:
                    body: dict[str, Any] = await response.json()
                    if response.status == 200:
                        return body, refused
                    assert response.status == 503, body
                    assert body["error"]["code"] == "store_unavailable"
                    assert response.headers["Retry-After"]
            except aiohttp.ClientConnectionError:
                pass  # the widget would try again
            refused += 1
            await asyncio.sleep(0.5)
