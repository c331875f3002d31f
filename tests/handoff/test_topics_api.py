"""GET /api/agent/analytics/topics on the gateway app, with a stand-in action server:
who may read the topics, what bad filters get, what the gateway asks the action server
for, the CSV and YAML exports, and a clear 503 while the action server is down."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handoff.web.app import create_app
from handoff.web.state import SERVICE
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, free_port

PASSWORD = "correct-horse-battery"
SECRET = "action-secret"
DRAFTS = "# drafts\narticles:\n- id: draft_01_are_you_hiring\n"
REPORT = {
    "from": "2026-12-01",
    "to": "2026-12-02",
    "language": "all",
    "questions": 3,
    "grouped": 3,
    "groups": 1,
    "topics": [
        {
            "rank": 1,
            "id": "draft_01_are_you_hiring",
            "representative": "are you hiring",
            "size": 3,
            "languages": {"en": 2, "ko": 1},
            "kinds": {"abstain": 3},
            "examples": ["are you hiring", '=HYPERLINK("x")', "채용하나요"],
            "nearest": [{"article_id": "company_info", "title": "About us", "count": 3}],
            "draft": DRAFTS,
        }
    ],
    "drafts": DRAFTS,
    "seconds": {"embed": 0.1, "group": 0.01},
}


@dataclass
class ActionServer:
    """Answers /webhook like rasa-sdk with `reply` as the action's custom payload."""

    reply: dict[str, Any] | None = field(default_factory=lambda: {"topics": REPORT})
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def webhook(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            return web.json_response({"error": "unauthorized"}, status=401)
        self.requests.append(await request.json())
        if self.status != 200:
            return web.json_response({"error": "boom"}, status=self.status)
        return web.json_response({"events": [], "responses": [{"custom": self.reply}]})


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    actions: ActionServer
    tokens: dict[str, str]

    async def get(self, query: str = "", who: str | None = "lead") -> tuple[int, Any, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = await self.client.get(f"/api/agent/analytics/topics{query}", headers=headers)
        if response.content_type == "application/json":
            return response.status, await response.json(), response.content_type
        return response.status, await response.text(), response.content_type


async def _gateway(tmp_path: Path, actions: ActionServer | None) -> AsyncIterator[Gateway]:
    action_port = free_port()
    runner = None
    if actions is not None:
        app = web.Application()
        app.router.add_post("/webhook", actions.webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", action_port).start()
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the bot is "down", which is fine here
        action_port=action_port,
        action_auth_token=SECRET,
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    service = client.app[SERVICE].handoff
    tokens = {}
    for username, role in (("lead", "supervisor"), ("alice", "agent")):
        await service.handoffs.upsert_agent(username, PASSWORD, ["en"], [], 2, role=role)
        response = await client.post(
            "/api/agent/login", json={"username": username, "password": PASSWORD}
        )
        tokens[username] = (await response.json())["token"]
    yield Gateway(client, actions or ActionServer(), tokens)
    await client.close()
    if runner is not None:
        await runner.cleanup()


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async for ready in _gateway(tmp_path, ActionServer()):
        yield ready


@pytest.fixture
async def no_action_server(tmp_path: Path) -> AsyncIterator[Gateway]:
    async for ready in _gateway(tmp_path, None):
        yield ready


async def test_topics_are_for_supervisors_only(gateway: Gateway) -> None:
    status, body, _ = await gateway.get(who=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body, _ = await gateway.get(who="alice")
    assert status == 403 and body["error"]["code"] == "supervisors_only"
    assert gateway.actions.requests == []  # refused before any work


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?from=2026-02-30", "not a date"),
        ("?from=yesterday", "must be a date"),
        ("?from=2026-12-05&to=2026-12-01", "'from' must not be after 'to'"),
        ("?from=2024-01-01&to=2026-12-01", "longer than"),
        ("?language=fr", "'language' must be one of"),
        ("?format=xlsx", "'format' must be one of json, csv, yaml"),
        ("?figure=csat", "unknown parameter figure"),
    ],
)
async def test_bad_filters_are_400(gateway: Gateway, query: str, says: str) -> None:
    status, body, _ = await gateway.get(query)
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert says in body["error"]["message"]
    assert gateway.actions.requests == []


async def test_the_action_server_builds_the_topics(gateway: Gateway) -> None:
    status, body, _ = await gateway.get("?from=2026-12-01&to=2026-12-02&language=ko")
    assert status == 200 and body == REPORT
    [sent] = gateway.actions.requests
    assert sent["next_action"] == "action_kb_topics"
    assert sent["tracker"]["latest_message"]["metadata"] == {
        "from": "2026-12-01",
        "to": "2026-12-02",
        "language": "ko",
    }
    status, body, _ = await gateway.get("?from=2026-12-01&to=2026-12-02&language=all")
    assert gateway.actions.requests[-1]["tracker"]["latest_message"]["metadata"]["language"] is None


async def test_csv_and_yaml_exports(gateway: Gateway) -> None:
    status, text, content_type = await gateway.get("?from=2026-12-01&to=2026-12-02&format=csv")
    assert status == 200 and content_type == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["rank"] == "1" and row["size"] == "3" and row["languages"] == "en 2 ko 1"
    assert row["nearest_article"] == "company_info" and row["nearest_title"] == "About us"
    assert row["examples"] == 'are you hiring | =HYPERLINK("x") | 채용하나요'
    status, text, content_type = await gateway.get("?from=2026-12-01&to=2026-12-02&format=yaml")
    assert status == 200 and content_type == "application/yaml" and text == DRAFTS


async def test_a_formula_in_a_customer_question_stays_text_in_the_csv(gateway: Gateway) -> None:
    report = {**REPORT, "topics": [{**REPORT["topics"][0], "examples": ["=1+1", "ok"]}]}  # type: ignore[dict-item]
    gateway.actions.reply = {"topics": report}
    _, text, _ = await gateway.get("?format=csv")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["examples"] == "'=1+1 | ok"


@pytest.mark.parametrize(
    ("status", "reply", "says"),
    [
        (500, None, "HTTP 500"),
        (200, {"topics_error": "run make kb-index"}, "run make kb-index"),
        (200, {"something": "else"}, "no topics"),
    ],
)
async def test_an_action_server_failure_is_a_clear_503(
    gateway: Gateway, status: int, reply: dict[str, Any] | None, says: str
) -> None:
    gateway.actions.status = status
    gateway.actions.reply = reply
    code, body, _ = await gateway.get()
    assert code == 503 and body["error"]["code"] == "topics_unavailable"
    assert says in body["error"]["message"]


async def test_no_action_server_is_a_clear_503(no_action_server: Gateway) -> None:
    status, body, _ = await no_action_server.get()
    assert status == 503 and body["error"]["code"] == "topics_unavailable"
    assert "not reachable" in body["error"]["message"]
    assert "Traceback" not in str(body)
