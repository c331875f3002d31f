"""The stack's internal services answer only the stack: Rasa's REST channel is off, our
gateway channel and the action server refuse a missing or wrong secret (also the
no-preflight text/plain POST any web page can send), and no secret is on a command line
or in a log."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import aiohttp
import psutil
import pytest

from stack.launcher import Stack

pytestmark = pytest.mark.e2e

# What any web page open in a local browser can send without a CORS preflight.
NO_PREFLIGHT = {"Content-Type": "text/plain"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _post(
    session: aiohttp.ClientSession, url: str, body: object, headers: dict[str, str]
) -> tuple[int, object]:
    async with session.post(url, data=json.dumps(body), headers=headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


def _action_call(sender: str) -> dict[str, object]:
    return {
        "next_action": "action_warm_up",
        "tracker": {"sender_id": sender, "events": [], "slots": {}},
        "domain": {"intents": []},
    }


async def test_the_action_server_answers_only_with_its_secret(live_stack: Stack) -> None:
    settings = live_stack.settings
    url = f"{settings.action_url}/webhook"
    body = _action_call(f"auth-{uuid.uuid4().hex}")
    json_type = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for headers in (
            json_type,
            NO_PREFLIGHT,
            {**json_type, **_bearer("wrong")},
            {**NO_PREFLIGHT, **_bearer("wrong")},
            {**json_type, **_bearer(settings.rasa_auth_token)},  # another secret
            {**json_type, "Authorization": settings.action_auth_token},  # not Bearer
        ):
            status, answer = await _post(session, url, body, headers)
            assert status == 401, (headers, answer)
            assert isinstance(answer, dict) and answer["error"]["code"] == "unauthorized"
        # Rasa's own `token` query parameter is not taken either (it ends up in logs).
        async with session.post(
            url, json=body, params={"token": settings.action_auth_token}
        ) as response:
            assert response.status == 401
        # Listing the actions is not open either; liveness is.
        async with session.get(f"{settings.action_url}/actions") as response:
            assert response.status == 401
        async with session.get(f"{settings.action_url}/health") as response:
            assert response.status == 200

        status, answer = await _post(
            session, url, body, {**json_type, **_bearer(settings.action_auth_token)}
        )
        assert status == 200, answer
        assert isinstance(answer, dict) and answer["responses"] == []
        async with session.get(
            f"{settings.action_url}/actions", headers=_bearer(settings.action_auth_token)
        ) as response:
            assert response.status == 200
            names = {item["name"] for item in await response.json()}
        assert "action_answer_faq" in names

        # The gateway sends it too: readiness counts the action server as up.
        async with session.get(f"{settings.gateway_url}/readyz") as response:
            ready = await response.json()
        assert ready["parts"]["actions"] == "up", ready


async def test_rasa_takes_messages_only_from_the_gateway(live_stack: Stack) -> None:
    settings = live_stack.settings
    sender = f"auth-{uuid.uuid4().hex}"
    body = {"sender": sender, "message": "talk to a human"}
    async with aiohttp.ClientSession() as session:
        # Rasa's unauthenticated REST channel is not there at all.
        for headers in ({"Content-Type": "application/json"}, NO_PREFLIGHT):
            status, _ = await _post(
                session, f"{settings.rasa_url}/webhooks/rest/webhook", body, headers
            )
            assert status == 404, headers

        gateway_channel = f"{settings.rasa_url}/webhooks/gateway/webhook"
        for headers in (
            {"Content-Type": "application/json"},
            NO_PREFLIGHT,
            {"Content-Type": "application/json", **_bearer("wrong")},
            {**NO_PREFLIGHT, **_bearer("wrong")},
            {"Content-Type": "application/json", **_bearer(settings.action_auth_token)},
        ):
            status, answer = await _post(session, gateway_channel, body, headers)
            assert status == 401, (headers, answer)
        # Nothing reached the conversation.
        async with session.get(
            f"{settings.rasa_url}/conversations/{sender}/tracker",
            params={"token": settings.rasa_auth_token},
        ) as response:
            tracker = await response.json()
        assert [e for e in tracker.get("events", []) if e.get("event") == "user"] == []

        status, answer = await _post(
            session,
            gateway_channel,
            {"sender": sender, "message": "hello"},
            {"Content-Type": "application/json", **_bearer(settings.rasa_auth_token)},
        )
        assert status == 200, answer
        assert isinstance(answer, list) and answer, "the bot answered"


def _stack_processes(stack: Stack) -> list[psutil.Process]:
    assert stack._supervisord is not None
    root = psutil.Process(stack._supervisord.pid)
    return [root, *root.children(recursive=True)]


def test_no_secret_is_on_a_command_line_or_in_a_file_or_log(live_stack: Stack) -> None:
    settings = live_stack.settings
    secrets = [settings.rasa_auth_token, settings.action_auth_token]
    assert all(len(secret) >= 24 for secret in secrets)
    processes = _stack_processes(live_stack)
    commands = {}
    for process in processes:
        try:
            commands[process.pid] = " ".join(process.cmdline())
        except psutil.NoSuchProcess:
            continue
    modules = " ".join(commands.values())
    for program in ("stack.action_server", "bot.serve", "handoff", "supervisord"):
        assert program in modules, f"{program} is not among the stack's processes"
    for pid, command in commands.items():
        for secret in secrets:
            assert secret not in command, f"a secret is on pid {pid}'s command line"

    written = [
        live_stack.files.config,
        live_stack.files.run_dir / "endpoints.yml",
        live_stack.files.log,
        *(live_stack.log_path(name) for name in live_stack.names),
    ]
    for path in written:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"a secret is written in {path}"
