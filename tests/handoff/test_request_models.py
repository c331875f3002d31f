"""The request models (handoff/web/request_models.py) are the one input boundary, and the
OpenAPI document is generated from them: what the document's schema accepts the model
accepts, and what it refuses the handler refuses with a 400 naming the field (an error
frame on a websocket), never a 500 or a traceback in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import jsonschema_rs
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from common.language import SUPPORTED_LANGUAGES
from handoff.agent import analytics
from handoff.web import request_models as models
from handoff.web.app import create_app
from handoff.web.openapi import openapi_document
from handoff.web.request_models import InvalidRequest, RequestModel, parse
from handoff.web.state import SERVICE
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, free_port

DOCUMENT = openapi_document()
COMPONENTS = DOCUMENT["components"]

BODIES: dict[tuple[str, str], type[RequestModel]] = {
    ("/api/conversations", "post"): models.NewConversation,
    ("/api/customers/history", "post"): models.CustomerHistoryRequest,
    ("/api/conversations/{conversation_id}/messages", "post"): models.CustomerMessage,
    ("/api/agent/login", "post"): models.AgentLogin,
    ("/api/agent/conversations/{conversation_id}/messages", "post"): models.AgentMessage,
    ("/api/agent/conversations/{conversation_id}/notes", "post"): models.AgentNote,
    ("/api/agent/conversations/{conversation_id}/reassign", "post"): models.Reassign,
    ("/api/agent/conversations/{conversation_id}/transfer", "post"): models.Transfer,
    ("/api/agent/availability", "put"): models.AvailabilityChange,
    ("/api/agent/conversations/{conversation_id}/labels", "put"): models.LabelsChange,
    ("/api/agent/tickets/{ticket_id}/reply", "post"): models.TicketReply,
    ("/api/agent/tickets/{ticket_id}/close", "post"): models.TicketClose,
    ("/api/supervisor/notices", "post"): models.NewNotice,
}
QUERIES: dict[str, type[RequestModel]] = {
    "/api/agent/analytics": models.AnalyticsQuery,
    "/api/agent/analytics/topics": models.TopicsQuery,
    "/api/agent/search": models.SearchQuery,
    "/api/agent/tickets": models.TicketsQuery,
    "/api/notices": models.NoticesQuery,
}


def names(model: type[RequestModel], required_only: bool = False) -> set[str]:
    """A model's keys as clients send them (aliases: `from`, `to`)."""
    return {
        info.alias or name
        for name, info in model.model_fields.items()
        if info.is_required() or not required_only
    }


def document_validator(model: type[RequestModel]) -> Any:
    """The document's schema for `model` (components/schemas), as a validator."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}", "components": COMPONENTS}
    return jsonschema_rs.validator_for(schema)


def query_validator(path: str) -> Any:
    """The document's query parameters of `path` as one object schema. The document
    cannot say that no other parameter is allowed; the model refuses them (400)."""
    parameters = DOCUMENT["paths"][path]["get"]["parameters"]
    schema = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in parameters},
        "required": [p["name"] for p in parameters if p["required"]],
        "additionalProperties": False,
    }
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def accepted(model: type[RequestModel], value: object) -> bool:
    try:
        parse(model, value)
    except InvalidRequest as refused:
        assert str(refused)  # says what is wrong
        return False
    return True


# -- the document is the models' -----------------------------------------------------


def test_literals_are_the_runtime_constants() -> None:
    assert get_args(models.Figure) == tuple(analytics.FIGURES)
    assert get_args(models.Language) == SUPPORTED_LANGUAGES == analytics.LANGUAGES
    assert get_args(models.LanguageFilter) == ("", analytics.ALL, *analytics.LANGUAGES)


@pytest.mark.parametrize(("route", "model"), BODIES.items(), ids=lambda v: str(v))
def test_each_body_is_its_model_with_the_same_required_fields(
    route: tuple[str, str], model: type[RequestModel]
) -> None:
    path, method = route
    body = DOCUMENT["paths"][path][method]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{model.__name__}"}
    component = COMPONENTS["schemas"][model.__name__]
    assert set(component.get("required", [])) == names(model, required_only=True)
    assert set(component["properties"]) == names(model)
    # a body the model forbids extra keys in says so in the document too
    forbids = model.model_config.get("extra") == "forbid"
    assert component.get("additionalProperties", True) is not forbids
    # every error a bad body gets is documented
    assert "400" in DOCUMENT["paths"][path][method]["responses"]


@pytest.mark.parametrize(("path", "model"), QUERIES.items())
def test_each_query_is_its_model(path: str, model: type[RequestModel]) -> None:
    parameters = DOCUMENT["paths"][path]["get"]["parameters"]
    assert {p["name"] for p in parameters} == names(model)
    assert all(p["in"] == "query" and not p["required"] for p in parameters)
    # a query string has no null: none leaks in from a Python default of None
    assert "null" not in str(parameters)


def test_every_frame_is_in_the_document() -> None:
    for model in models.FRAMES:
        assert set(COMPONENTS["schemas"][model.__name__]["properties"]) == names(model)


# -- what the document accepts, the model accepts -----------------------------------

WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
LIMITS = (100, 128, 200, 2000)  # usernames, client ids, identity fields, messages
strings = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from(WHITESPACE), max_size=4),
    st.sampled_from(
        ["hello", "message", "typing", "ko", "ja", "en", "fr", "all", "", "bob", "/greet"]
    ),
    st.sampled_from(["배송 언제 와요?", "返品したい", " \u3000ㅠㅠ "]),
    st.sampled_from(LIMITS).flatmap(lambda n: st.sampled_from(["a" * n, "a" * (n + 1)])),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    # JSON Schema's "integer" takes 1.0; a strict model does not (documented below)
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    strings,
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=2),
    st.dictionaries(st.sampled_from(["id", "name", "email", "phone"]), scalars, max_size=3),
)


def bodies(model: type[RequestModel]) -> st.SearchStrategy[dict[str, Any]]:
    keys = [*sorted(names(model)), "unexpected"]
    return st.fixed_dictionaries({}, optional=dict.fromkeys(keys, values))


@pytest.mark.parametrize("model", [*models.BODIES, *models.FRAMES], ids=lambda m: m.__name__)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_document_and_the_model_agree_on_every_body(
    model: type[RequestModel], data: st.DataObject
) -> None:
    body = data.draw(bodies(model))
    assert document_validator(model).is_valid(body) == accepted(model, body), body


days = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "2026-02-30", "yesterday", "2026-1-01", "2026-12-01\n"]),
)
query_values = st.one_of(
    days,
    strings,
    st.sampled_from(["json", "csv", "yaml", "xml", *analytics.FIGURES]),
    st.sampled_from(["UTC", "Asia/Seoul", "America/Argentina/Buenos_Aires", "UTC\n", "../x"]),
)


@pytest.mark.parametrize(("path", "model"), QUERIES.items())
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_document_and_the_model_agree_on_every_query(
    path: str, model: type[RequestModel], data: st.DataObject
) -> None:
    keys = [*sorted(names(model)), "lang"]
    query = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(keys, query_values)))
    assert query_validator(path).is_valid(query) == accepted(model, query), query


def test_a_strict_model_refuses_what_json_schema_calls_an_integer() -> None:
    """The one known difference: JSON Schema's "integer" includes 1.0; the model takes
    only a JSON integer. Documented here so a change either way shows up."""
    assert document_validator(models.CustomerHello).is_valid({"token": "t", "last_seq": 1.0})
    assert not accepted(models.CustomerHello, {"token": "t", "last_seq": 1.0})


@pytest.mark.parametrize(
    ("model", "value", "says"),
    [
        (models.CustomerMessage, {"text": 7}, "'text' must be a string"),
        (models.CustomerMessage, {"text": "hi", "client_id": 7}, "'client_id' must be a string"),
        (models.CustomerMessage, {"text": " \u3000"}, "non-empty"),
        (models.CustomerMessage, {"text": "a" * 2001}, "the limit is 2000"),
        (models.CustomerMessage, [1, 2], "must be a JSON object"),
        (models.NewConversation, {"language": "fr"}, "'language' must be one of ko, ja, en"),
        (models.NewConversation, {"customer": {"id": 5}}, "'customer.id' must be a string"),
        (models.NewConversation, {"identity_expires": True}, "must be an integer"),
        (models.Reassign, {"agent": "bob", "urgent": 1}, "unknown field urgent"),
        (models.Reassign, {"agent": "bob", "force": "yes"}, "'force' must be true or false"),
        (models.AvailabilityChange, {"availability": "lunch"}, "one of online, away, busy"),
        (models.AvailabilityChange, {}, "'availability' is required"),
        (models.LabelsChange, {"labels": "vip"}, "with a list of label ids"),
        (models.LabelsChange, {"labels": ["VIP"]}, "'labels.0' must match"),
        (models.LabelsChange, {"labels": ["vip"] * 11}, "at most 10 labels"),
        (models.AnalyticsQuery, {"from": "2026-13-01"}, "'from' is not a date"),
        (models.AnalyticsQuery, {"lang": "ko"}, "unknown parameter lang"),
        (models.TopicsQuery, {"format": "xml"}, "'format' must be one of json, csv, yaml"),
        (models.CustomerHello, {"token": "t", "last_seq": -1}, "'last_seq' must be at least 0"),
        (models.TypingFrame, {"type": "typing", "conversation_id": "c"}, "'on' is required"),
        (models.CustomerTypingFrame, {"type": "typing", "on": "yes"}, "'on' must be true or false"),
    ],
)
def test_a_refusal_names_the_field_and_what_is_wrong(
    model: type[RequestModel], value: object, says: str
) -> None:
    with pytest.raises(InvalidRequest, match=says):
        parse(model, value)


def test_identity_fields_refused_by_the_model_keep_the_identity_code() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse(models.NewConversation, {"identity_expires": "soon"})
    assert refused.value.code == "invalid_identity"
    with pytest.raises(InvalidRequest) as refused:
        parse(models.NewConversation, {"language": 1})
    assert refused.value.code == "bad_request"


# -- the handlers use the models ------------------------------------------------------

PASSWORD = "correct-horse-battery"


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    conversation_id: str
    customer: dict[str, str]
    lead: dict[str, str]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    app_settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the bot is "down", which is fine here
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(app_settings)))
    await client.start_server()
    service = client.app[SERVICE].handoff
    await service.handoffs.upsert_agent("lead", PASSWORD, ["en"], [], 2, role="supervisor")
    signed_in = await client.post(
        "/api/agent/login", json={"username": "lead", "password": PASSWORD}
    )
    started = await client.post("/api/conversations", json={"language": "en"})
    conversation = await started.json()
    yield Gateway(
        client,
        conversation["conversation_id"],
        {"Authorization": f"Bearer {conversation['token']}"},
        {"Authorization": f"Bearer {(await signed_in.json())['token']}"},
    )
    await client.close()


BAD_BODIES = [
    ("/api/conversations", None, {"language": 3}, "'language'"),
    ("/api/conversations", None, {"customer": ["x"]}, "'customer'"),
    ("/api/conversations/{id}/messages", "customer", {"text": 42}, "'text' must be a string"),
    ("/api/conversations/{id}/messages", "customer", {"payload": ""}, "'payload'"),
    ("/api/agent/login", None, {"username": "lead", "password": 1}, "password"),
    ("/api/agent/conversations/{id}/messages", "lead", {"text": "\u3000"}, "non-empty"),
    ("/api/agent/conversations/{id}/notes", "lead", {"text": " \n\u3000"}, "non-empty"),
    ("/api/agent/conversations/{id}/notes", "lead", {"text": ["VIP"]}, "non-empty"),
    ("/api/agent/conversations/{id}/notes", "lead", {"text": "x" * 2001}, "the limit is 2000"),
    ("/api/agent/conversations/{id}/reassign", "lead", {"agent": ["bob"]}, "'agent' must"),
    ("/api/agent/conversations/{id}/reassign", "lead", {"agent": "bob", "x": 1}, "unknown"),
    ("/api/supervisor/notices", "lead", {"text": {"ko": "a", "ja": "b"}}, "'text.en' is required"),
    (
        "/api/supervisor/notices",
        "lead",
        {"text": {"ko": "a", "ja": "b", "en": "x" * 501}},
        "'text.en' must be at most 500 characters",
    ),
    (
        "/api/supervisor/notices",
        "lead",
        {"text": {"ko": "a", "ja": "b", "en": "c"}, "starts_at": "2026-12-05 10:00"},
        "'starts_at' must be a date and time with its time zone",
    ),
]


@pytest.mark.parametrize(("path", "who", "body", "says"), BAD_BODIES)
async def test_a_body_the_document_refuses_is_a_400_naming_the_field(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
    path: str,
    who: str | None,
    body: dict[str, Any],
    says: str,
) -> None:
    model = BODIES[(path.replace("{id}", "{conversation_id}"), "post")]
    assert not document_validator(model).is_valid(body)
    headers = {"customer": gateway.customer, "lead": gateway.lead, None: {}}[who]
    with caplog.at_level(logging.WARNING):
        response = await gateway.client.post(
            path.replace("{id}", gateway.conversation_id), json=body, headers=headers
        )
        answer = await response.json()
    assert response.status == 400, answer
    assert answer["error"]["code"] in ("bad_request", "invalid_identity")
    assert says in answer["error"]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def test_an_agent_message_needs_a_live_session_and_the_chat(gateway: Gateway) -> None:
    """The session is checked with the write (one trip to the store): no token, a token
    nobody holds, and a signed-out one are 401s; a live session on a chat that is not
    the agent's is a 403. None of them stores anything."""
    path = f"/api/agent/conversations/{gateway.conversation_id}/messages"
    body = {"text": "Hello, I can help"}
    for headers in ({}, {"Authorization": "Bearer not-a-session-of-ours"}):
        refused = await gateway.client.post(path, json=body, headers=headers)
        answer = await refused.json()
        assert refused.status == 401 and answer["error"]["code"] == "unauthorized", answer
    not_theirs = await gateway.client.post(path, json=body, headers=gateway.lead)
    assert not_theirs.status == 403
    assert (await not_theirs.json())["error"]["code"] == "not_yours"
    signed_out = await gateway.client.post("/api/agent/logout", headers=gateway.lead)
    assert signed_out.status < 300
    refused = await gateway.client.post(path, json=body, headers=gateway.lead)
    assert refused.status == 401 and "sign in again" in (await refused.json())["error"]["message"]
    transcript = await gateway.client.get(
        f"/api/conversations/{gateway.conversation_id}", headers=gateway.customer
    )
    assert (await transcript.json())["messages"] == []


@pytest.mark.parametrize(
    ("query", "says"),
    [("?tz=UTC%0A", "'tz'"), ("?figure=pie", "'figure'"), ("?from=2026-1-1", "'from'")],
)
async def test_a_query_the_document_refuses_is_a_400(
    gateway: Gateway, query: str, says: str
) -> None:
    response = await gateway.client.get(f"/api/agent/analytics{query}", headers=gateway.lead)
    answer = await response.json()
    assert response.status == 400 and answer["error"]["code"] == "bad_request"
    assert says in answer["error"]["message"]


async def test_customer_frames_are_their_models(gateway: Gateway) -> None:
    path = f"/api/conversations/{gateway.conversation_id}/ws"
    async with gateway.client.ws_connect(path) as ws:
        token = gateway.customer["Authorization"].removeprefix("Bearer ")
        await ws.send_json({"type": "hello", "token": token, "last_seq": "0"})
        refused = await ws.receive_json(timeout=5)
    assert refused["code"] == "unauthorized" and "'last_seq'" in refused["message"]

    async with gateway.client.ws_connect(path) as ws:
        await ws.send_json({"type": "hello", "token": token})
        assert (await ws.receive_json(timeout=5))["type"] == "ready"
        await ws.send_json({"type": "message", "client_id": "m1", "text": 42})
        frame = await ws.receive_json(timeout=5)
        assert frame["type"] == "error" and frame["code"] == "invalid_message"
        assert frame["client_id"] == "m1" and "'text' must be a string" in frame["message"]
        await ws.send_json({"type": "message", "client_id": 7, "text": "hi"})
        frame = await ws.receive_json(timeout=5)
        assert frame["client_id"] is None and "'client_id'" in frame["message"]
    transcript = await gateway.client.get(
        f"/api/conversations/{gateway.conversation_id}", headers=gateway.customer
    )
    assert (await transcript.json())["messages"] == []


async def test_agent_frames_are_their_models(gateway: Gateway) -> None:
    async with gateway.client.ws_connect("/api/agent/ws") as ws:
        await ws.send_json({"type": "hello", "token": 5})
        refused = await ws.receive_json(timeout=5)
    assert refused["code"] == "unauthorized"

    async with gateway.client.ws_connect("/api/agent/ws") as ws:
        token = gateway.lead["Authorization"].removeprefix("Bearer ")
        await ws.send_json({"type": "hello", "token": token})
        assert (await ws.receive_json(timeout=5))["type"] == "ready"
        await ws.send_json({"type": "typing", "conversation_id": "c", "on": "yes"})
        async with asyncio.timeout(5):
            while (frame := await ws.receive_json())["type"] != "error":
                pass
    assert frame["code"] == "bad_frame" and "'on' must be true or false" in frame["message"]


@pytest.mark.parametrize("limit", ["5000", "0"])
def test_a_message_limit_the_api_cannot_honour_stops_the_gateway(limit: str) -> None:
    """The models cap messages at MAX_MESSAGE_CHARS: a setting above it would be ignored
    in silence, so the gateway says so and does not start."""
    import os
    import subprocess
    import sys

    from stack.settings import PROJECT_ROOT

    done = subprocess.run(
        [sys.executable, "-m", "handoff"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_MAX_MESSAGE_CHARS": limit, "ASSISTANT_GATEWAY_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "ASSISTANT_MAX_MESSAGE_CHARS" in done.stderr and "Traceback" not in done.stderr
