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
