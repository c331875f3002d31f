"""Labels on conversations, on the real stack, in ko, ja and en: the designers' list, set
by an agent who could take the chat while it waits, by the agent who has it and by a
supervisor; shown in the queue, "my conversations" and the open chat, pushed live to the
agent's console; refused to agents with nothing to do with the chat and to the customer's
token; never anywhere the customer reads; hostile bodies are 4xx JSON, never a 500."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
import yaml

from stack.launcher import Stack
from stack.settings import Settings
from tests.e2e.client import AgentClient, Customer, agent_socket
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_notes import raw
from tests.e2e.test_websocket import frames_until

pytestmark = pytest.mark.e2e

PASSWORD = "labels-password-5"
# Agents of this module only: username -> (languages, role).
PEOPLE = {
    "lena": ("ko,ja,en", "agent"),
    "lukas": ("ko,ja,en", "agent"),
    "riku": ("ja", "agent"),
    "lia": ("ko,ja,en", "supervisor"),
}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (languages, role) in PEOPLE.items():
        add_agent(live_stack.settings, username, PASSWORD, "--languages", languages, "--role", role)
    return {username: PASSWORD for username in PEOPLE}


def labels_path(conversation_id: str) -> str:
    return f"/api/agent/conversations/{conversation_id}/labels"


def test_the_list_is_the_designers_file_in_three_languages() -> None:
    shipped = yaml.safe_load(Settings().labels_path.read_text(encoding="utf-8"))["labels"]
    ids = [label["id"] for label in shipped]
    assert {"refund", "delivery_problem", "vip", "bug", "feedback", "urgent"} <= set(ids)
    for label in shipped:
        assert all(label["name"][language].strip() for language in ("ko", "ja", "en"))


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_agents_label_chats_the_customer_never_sees_it(
    live_stack: Stack,
    people: dict[str, str],
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        lena = await AgentClient(session, url).login("lena", PASSWORD)
        lukas = await AgentClient(session, url).login("lukas", PASSWORD)
        riku = await AgentClient(session, url).login("riku", PASSWORD)
        lead = await AgentClient(session, url).login("lia", PASSWORD)
        status, listed = await lena.call("GET", "/api/agent/labels")
        assert status == 200
        names = {label["id"]: label["names"] for label in listed}
        assert names["vip"]["en"] == "VIP" and names["refund"]["ko"] == "환불"
        assert names["delivery_problem"]["ja"] == "配送トラブル"

        customer = await Customer(session, url).start(language, name="Mina")
        await customer.ask_for_a_person(question, ask_person)
        cid = customer.conversation_id
        customer_ws = await customer.socket_from_now()

        # waiting: an agent who could accept it labels it; the queue shows it
        [item] = [i for i in await lukas.queue() if i["conversation_id"] == cid]
        assert item["labels"] == []
        assert await lukas.call("PUT", labels_path(cid), {"labels": ["urgent"]}) == (
            200,
            {"conversation_id": cid, "labels": ["urgent"]},
        )
        [item] = [i for i in await lena.queue() if i["conversation_id"] == cid]
        assert item["labels"] == ["urgent"]
        status, answer = await riku.call("PUT", labels_path(cid), {"labels": ["vip"]})
        if language == "ja":  # riku could accept a ja chat
            assert status == 200 and answer["labels"] == ["vip"]
            await riku.call("PUT", labels_path(cid), {"labels": ["urgent"]})
        else:
            assert status == 403 and answer["error"]["code"] == "not_yours"

        # lena takes it: the view has them; she replaces them, her console gets them live
        status, view = await lena.accept(cid)
        assert status == 200 and view["labels"] == ["urgent"]
        lena_ws = await agent_socket(session, url, lena)
        wanted = {"labels": ["vip", "delivery_problem", "vip"]}  # a repeat counts once
        status, answer = await lena.call("PUT", labels_path(cid), wanted)
        assert (status, answer["labels"]) == (200, ["delivery_problem", "vip"])
        frames = await frames_until(
            lena_ws, lambda f, _: f["type"] == "labels" and f["conversation_id"] == cid
        )
        assert frames[-1] == {"type": "labels", "conversation_id": cid, "labels": answer["labels"]}
        status, mine = await lena.call("GET", "/api/agent/conversations")
        [listed_item] = [i for i in mine if i["conversation_id"] == cid]
        assert listed_item["labels"] == ["delivery_problem", "vip"]
        status, view = await lena.call("GET", f"/api/agent/conversations/{cid}")
        assert view["labels"] == ["delivery_problem", "vip"]

        # not on the list, or too many: a 400 that names it; nothing changed
        status, answer = await lena.call("PUT", labels_path(cid), {"labels": ["vip", "angry"]})
        assert status == 400 and answer["error"]["code"] == "unknown_label"
        assert "angry" in answer["error"]["message"]
        status, answer = await lena.call("PUT", labels_path(cid), {"labels": ["vip"] * 11})
        assert status == 400 and "at most 10" in answer["error"]["message"]
        assert (await lena.call("GET", f"/api/agent/conversations/{cid}"))[1]["labels"] == [
            "delivery_problem",
            "vip",
        ]

        # lukas, whose chat it is not now, is refused; the customer's token is no session
        status, answer = await lukas.call("PUT", labels_path(cid), {"labels": []})
        assert status == 403 and answer["error"]["code"] == "not_yours"
        status, kind, answer = await raw(
            session, "PUT", url + labels_path(cid), customer.token, b'{"labels": []}'
        )
        assert status == 401 and kind == "application/json"
        # a supervisor may
        status, answer = await lead.call(
            "PUT", labels_path(cid), {"labels": ["delivery_problem", "vip", "feedback"]}
        )
        assert status == 200 and answer["labels"] == ["delivery_problem", "feedback", "vip"]

        # the customer sees none of it: not on their socket, not in their transcript
        assert (await lena.write(cid, agent_says))[0] == 201
        frames = await frames_until(
            customer_ws, lambda f, _: f["type"] == "message" and f["role"] == "agent"
        )
        assert all(f["type"] != "labels" and "labels" not in f for f in frames)
        said = json.dumps(frames, ensure_ascii=False)
        async with session.get(
            f"{url}/api/conversations/{cid}", headers=customer.headers
        ) as response:
            body: dict[str, Any] = await response.json()
        transcript = json.dumps(body, ensure_ascii=False)
        assert "labels" not in body
        for text in ("delivery_problem", "feedback", "labels", *names["vip"].values()):
            assert text not in said and text not in transcript, text
        await customer_ws.close()
        await lena_ws.close()

        # resolved: lena, its last agent, may still label it (a chat she worked)
        assert (await lena.resolve(cid))[0] == 200
        status, answer = await lena.call("PUT", labels_path(cid), {"labels": ["refund"]})
        assert status == 200 and answer["labels"] == ["refund"]
        assert (await lukas.call("PUT", labels_path(cid), {"labels": []}))[0] == 403


async def test_hostile_label_bodies_get_json_errors(
    live_stack: Stack, people: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login("lia", PASSWORD)
        customer = await Customer(session, url).start("en")
        cid = customer.conversation_id
        path = url + labels_path(cid)
        bodies: list[tuple[bytes, int, str]] = [
            (b'{"labels": "vip"}', 400, "list of label ids"),
            (b'{"labels": null}', 400, "list of label ids"),
            (b'{"labels": [1]}', 400, "must be a string"),
            (b'{"labels": ["VIP"]}', 400, "must match"),
            (b'{"labels": ["' + b"a" * 41 + b'"]}', 400, "must match"),
            (b'{"labels": ["no_such_label"]}', 400, "no_such_label"),
            (b'{"labels": [], "x": 1}', 400, "unknown field x"),
            (b"{}", 400, "'labels' is required"),
            (b'{"labels": ["\\ud800"]}', 400, "surrogate"),
            (b'{"labels": [', 400, "JSON"),
            (b'["vip"]', 400, "object"),
            (b"\xff\xfe not utf-8", 400, "UTF-8"),
            (json.dumps({"labels": ["vip"] * 11}).encode(), 400, "at most 10"),
            (json.dumps({"labels": ["x" * 70_000]}).encode(), 413, "larger"),
        ]
        for body, expected, says in bodies:
            status, kind, answer = await raw(session, "PUT", path, lead.token, body)
            assert (status, kind) == (expected, "application/json"), (body[:40], answer)
            assert says in answer["error"]["message"], (body[:40], answer)
        # nothing of it was stored; ten (the limit) is fine
        ten = ["refund", "delivery_problem", "vip", "bug", "feedback", "urgent"]
        status, answer = await lead.call("PUT", labels_path(cid), {"labels": ten})
        assert status == 200 and answer["labels"] == sorted(ten)

        # unknown or impossible conversation ids: 404 JSON
        for bad in ("no-such-conversation", "%ED%A0%80", "%00", "x" * 500):
            status, kind, answer = await raw(
                session, "PUT", url + labels_path(bad), lead.token, b'{"labels": ["vip"]}'
            )
            assert (status, kind) == (404, "application/json"), (bad, answer)
            assert answer["error"]["code"] == "not_found"
        # no session at all: 401 JSON
        status, kind, answer = await raw(session, "GET", url + "/api/agent/labels", "nope")
        assert status == 401 and kind == "application/json"
