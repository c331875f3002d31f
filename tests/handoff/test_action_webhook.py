"""The gateway's client of the action server's webhook (handoff/web/action_webhook.py):
what it sends, and that every answer it cannot use is ActionServerUnavailable or no
payloads, never another exception."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from handoff.web.action_webhook import ActionServerUnavailable, ActionWebhook


async def _serve(answer: web.Response, seen: list[Any]) -> TestServer:
    async def webhook(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization"), await request.json()))
        return answer

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = TestServer(app)
    await server.start_server()
    return server


async def test_it_sends_one_action_and_reads_the_custom_payloads() -> None:
    seen: list[Any] = []
    answer = web.json_response(
        {"responses": [{"text": "x"}, {"custom": {"a": 1}}, "junk", {"custom": [2]}]}
    )
    server = await _serve(answer, seen)
    try:
        async with aiohttp.ClientSession() as session:
            webhook = ActionWebhook(session, str(server.make_url("")).rstrip("/"), "s3cret", 5.0)
            payloads = await webhook.custom_payloads(
                "action_x", "who", text="배송 언제 와요", slots={"language": "ko"}
            )
    finally:
        await server.close()
    assert payloads == [{"a": 1}]
    header, body = seen[0]
    assert header == "Bearer s3cret"
    assert body["next_action"] == "action_x"
    assert body["tracker"]["latest_message"] == {"text": "배송 언제 와요"}
    assert body["tracker"]["slots"] == {"language": "ko"}


@pytest.mark.parametrize(
    ("answer", "payloads"),
    [
        (web.json_response({"responses": "nope"}), []),
        (web.json_response([1, 2]), []),
        (web.json_response({}), []),
    ],
)
async def test_an_answer_of_another_shape_has_no_payloads(
    answer: web.Response, payloads: list[Any]
) -> None:
    server = await _serve(answer, [])
    try:
        async with aiohttp.ClientSession() as session:
            webhook = ActionWebhook(session, str(server.make_url("")).rstrip("/"), "s", 5.0)
            assert await webhook.custom_payloads("action_x", "who") == payloads
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (web.Response(status=500, text="boom"), "HTTP 500"),
        (web.Response(status=200, text="not json", content_type="text/plain"), "unreachable"),
    ],
)
async def test_an_unusable_answer_is_unavailable(answer: web.Response, says: str) -> None:
    server = await _serve(answer, [])
    try:
        async with aiohttp.ClientSession() as session:
            webhook = ActionWebhook(session, str(server.make_url("")).rstrip("/"), "s", 5.0)
            with pytest.raises(ActionServerUnavailable, match=says):
                await webhook.custom_payloads("action_x", "who")
    finally:
        await server.close()
