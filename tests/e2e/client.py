"""A tiny customer client for the gateway's HTTP API, used by tests and benchmarks."""

from __future__ import annotations

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
