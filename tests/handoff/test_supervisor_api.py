"""The supervisor routes over HTTP (handoff/agent/supervisor_api.py), on the gateway app with no
Rasa behind it: who may reassign, what a malformed request gets, and the live socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from handoff.conversation.handoff_service import HandoffService
from handoff.conversation.models import Conversation
from handoff.web.app import create_app
from handoff.web.state import SERVICE
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, free_port

PASSWORD = "correct-horse-battery"


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    service: HandoffService
    tokens: dict[str, str]

    async def reassign(
        self, conversation_id: str, body: Any, who: str | None = "lead", raw: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        path = f"/api/agent/conversations/{conversation_id}/reassign"
        if raw is not None:
            headers["Content-Type"] = "application/json"
            response = await self.client.post(path, data=raw.encode(), headers=headers)
        else:
            response = await self.client.post(path, json=body, headers=headers)
        assert response.content_type == "application/json", await response.text()
        return response.status, await response.json()

    async def waiting(self) -> Conversation:
        conversation, _ = await self.service.store.create_conversation("en", {})
        await self.service.store.add_message(conversation.id, "customer", "a person please")
        await self.service.escalate(conversation, {"reason": "requested"})
        return conversation


async def until(ws: Any, done: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The first live frame for which `done` is true (well before the 10 s refresh)."""
    async with asyncio.timeout(5):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if done(frame):
                return frame


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the bot is "down", which is fine here
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    service = client.app[SERVICE].handoff
    tokens = {}
    for username, role in (("lead", "supervisor"), ("alice", "agent"), ("bob", "agent")):
        await service.handoffs.upsert_agent(username, PASSWORD, ["en"], [], 2, role=role)
        response = await client.post(
            "/api/agent/login", json={"username": username, "password": PASSWORD}
        )
        tokens[username] = (await response.json())["token"]
    yield Gateway(client, service, tokens)
    await client.close()


async def test_only_supervisors_may_reassign(gateway: Gateway) -> None:
    conversation = await gateway.waiting()
    status, body = await gateway.reassign(conversation.id, {"agent": "bob"}, who=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await gateway.reassign(conversation.id, {"agent": "bob"}, who="alice")
    assert status == 403 and body["error"]["code"] == "supervisors_only"
    assert (await gateway.service.store.get_conversation(conversation.id)).state == "queued"  # type: ignore[union-attr]

    status, body = await gateway.reassign(conversation.id, {"agent": "bob"})
    assert status == 200, body
    assert body["agent"] == "bob" and body["state"] == "assigned"
    # taken: a second move of the same chat to bob is a conflict, not a repeat
    status, body = await gateway.reassign(conversation.id, {"agent": "bob"})
    assert status == 409 and body["error"]["code"] == "already_assigned"
    status, body = await gateway.reassign(conversation.id, {"agent": "alice"})
    assert status == 200 and body["from_agent"] == "bob"


@pytest.mark.parametrize(
    ("body", "raw", "says"),
    [
        ({}, None, "'agent' must be"),
        ({"agent": 7}, None, "'agent' must be"),
        ({"agent": ["bob"]}, None, "'agent' must be"),
        ({"agent": "   "}, None, "'agent' must be"),
        ({"agent": "b" * 101}, None, "'agent' must be"),
        ({"agent": "bob", "force": "yes"}, None, "'force' must be"),
        ({"agent": "bob", "force": 1}, None, "'force' must be"),
        ({"agent": "bob", "urgent": True}, None, "unknown field urgent"),
        (None, "[1, 2]", "must be a JSON object"),
        (None, '{"agent": "bob"', "not valid JSON"),
        (None, '{"agent": "\\ud800"}', "lone surrogate"),
    ],
)
async def test_malformed_bodies_are_400(
    gateway: Gateway, body: Any, raw: str | None, says: str
) -> None:
    conversation = await gateway.waiting()
    status, answer = await gateway.reassign(conversation.id, body, raw=raw)
    assert status == 400 and says in answer["error"]["message"], answer


async def test_an_oversized_body_is_refused_whole(gateway: Gateway) -> None:
    conversation = await gateway.waiting()
    status, answer = await gateway.reassign(conversation.id, {"agent": "b" * 70_000})
    assert status == 413 and answer["error"]["code"] == "too_large"


@pytest.mark.parametrize("conversation_id", ["no-such-chat", "%ED%A0%80", "x" * 300])
async def test_unknown_conversations_are_404(gateway: Gateway, conversation_id: str) -> None:
    status, body = await gateway.reassign(conversation_id, {"agent": "bob"})
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_states_and_targets_that_do_not_allow_it_are_409(gateway: Gateway) -> None:
    idle, _ = await gateway.service.store.create_conversation("en", {})  # with the bot
    status, body = await gateway.reassign(idle.id, {"agent": "bob"})
    assert status == 409 and body["error"]["code"] == "not_waiting"
    conversation = await gateway.waiting()
    status, body = await gateway.reassign(conversation.id, {"agent": "nobody"})
    assert status == 409 and body["error"]["code"] == "unknown_agent"
    gateway.service.presence.last_seen.pop("bob")  # bob signed in long ago, no console
    status, body = await gateway.reassign(conversation.id, {"agent": "bob", "force": True})
    assert status == 409 and body["error"]["code"] == "agent_offline"
    assert "bob is not online" in body["error"]["message"]


async def test_the_live_socket_is_for_supervisors_and_pushes_changes(gateway: Gateway) -> None:
    async with gateway.client.ws_connect("/api/agent/live/ws") as ws:
        await ws.send_json({"type": "hello", "token": gateway.tokens["alice"]})
        refused = await ws.receive_json(timeout=5)
        assert refused["code"] == "supervisors_only"
        assert (await ws.receive(timeout=5)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    async with gateway.client.ws_connect("/api/agent/live/ws") as ws:
        await ws.send_str('{"type": "hello", "token": "\\ud800"}')
        assert (await ws.receive_json(timeout=5))["code"] == "unauthorized"

    async with gateway.client.ws_connect("/api/agent/live/ws") as ws:
        await ws.send_json({"type": "hello", "token": gateway.tokens["lead"]})
        now = await ws.receive_json(timeout=5)
        assert now["type"] == "live" and now["chats"] == [] and now["queued_total"] == 0
        conversation = await gateway.waiting()
        frame = await until(ws, lambda f: f["chats"])  # pushed, not asked for
        assert [c["conversation_id"] for c in frame["chats"]] == [conversation.id]
        status, _ = await gateway.reassign(conversation.id, {"agent": "alice"})
        assert status == 200
        frame = await until(ws, lambda f: f["chats"][0]["state"] == "assigned")
        [chat] = frame["chats"]
        assert (chat["state"], chat["agent"]) == ("assigned", "alice")
        assert next(a for a in frame["agents"] if a["username"] == "alice")["open_chats"] == 1

    # GET /api/agent/live lists the same chats
    response = await gateway.client.get(
        "/api/agent/live", headers={"Authorization": f"Bearer {gateway.tokens['lead']}"}
    )
    body = json.loads(await response.text())
    assert [(c["conversation_id"], c["agent"]) for c in body["chats"]] == [
        (conversation.id, "alice")
    ]
