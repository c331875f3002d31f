"""Private notes on a conversation, on the real stack, in ko, ja and en: the agent who has
the chat and a supervisor add and read them, the agent's console gets each one live over
the agent websocket; an agent with nothing to do with the chat and the customer are
refused, and nothing of a note ever reaches the customer (transcript, websocket, the
agent's list of their earlier conversations); hostile bodies are 4xx JSON, never a 500."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aiohttp
import pytest

from handoff.customer.identity import signed_fields
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, agent_socket, handed_to
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_websocket import frames_until

pytestmark = pytest.mark.e2e

PASSWORD = "notes-password-4"
# Agents of this module only, so other modules' chats never fill their seats:
# username -> (languages, role).
PEOPLE = {
    "nora": ("ko,ja,en", "agent"),
    "otto": ("ko,ja,en", "agent"),
    "kaito": ("ja", "agent"),
    "sol": ("ko,ja,en", "supervisor"),
}
# What the agent notes, per language: a card number in it must be masked.
NOTES = {
    "ko": (
        "VIP 고객입니다. 재무팀 환불 승인 완료, 카드 4111 1111 1111 1111",
        "4111 1111 1111 1111",
    ),
    "ja": ("VIPのお客様。返金は経理承認済み、カード 4111-1111-1111-1111", "4111-1111-1111-1111"),
    "en": (
        "VIP customer, refund already approved by finance, card 4111111111111111",
        "4111111111111111",
    ),
}
SUPERVISOR_NOTES = {
    "ko": "팀장 확인: 추가 보상 가능",
    "ja": "リーダー確認済み：追加補償可",
    "en": "Lead: extra goodwill credit is fine",
}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (languages, role) in PEOPLE.items():
        add_agent(live_stack.settings, username, PASSWORD, "--languages", languages, "--role", role)
    return {username: PASSWORD for username in PEOPLE}


async def signed_customer(
    session: aiohttp.ClientSession, url: str, language: str, signed: dict[str, Any]
) -> Customer:
    """A conversation of a customer the host site signed in (test_identity.py)."""
    async with session.post(
        f"{url}/api/conversations", json={"language": language, **signed}
    ) as response:
        assert response.status == 201, await response.text()
        data = await response.json()
    customer = Customer(session, url)
    customer.conversation_id, customer.token = data["conversation_id"], data["token"]
    return customer


def notes_path(conversation_id: str) -> str:
    return f"/api/agent/conversations/{conversation_id}/notes"


async def raw(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    data: bytes | None = None,
) -> tuple[int, str, Any]:
    """A request with a body sent as is: status, content type, parsed JSON."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with session.request(method, url, data=data, headers=headers) as response:
        text = await response.text()
        return response.status, response.content_type, json.loads(text) if text else None


async def no_note_frames(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[Any]:
    """Note frames `ws` receives within `seconds` (there should be none)."""
    found = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frame = await ws.receive_json()
                if frame.get("type") == "note":
                    found.append(frame)
    except TimeoutError:
        pass
    return found


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_notes_are_for_agents_and_supervisors_only(
    live_stack: Stack,
    people: dict[str, str],
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    url = live_stack.settings.gateway_url
    note_text, card = NOTES[language]
    # A customer the host site signed in: their next chat lists this one as earlier.
    identity = {"id": f"notes-{language}-{os.urandom(4).hex()}", "name": "Mina"}
    signed = signed_fields(live_stack.settings.identity_secret, identity, 600)
    async with aiohttp.ClientSession() as session:
        nora = await AgentClient(session, url).login("nora", PASSWORD)
        otto = await AgentClient(session, url).login("otto", PASSWORD)
        kaito = await AgentClient(session, url).login("kaito", PASSWORD)
        lead = await AgentClient(session, url).login("sol", PASSWORD)
        customer = await signed_customer(session, url, language, signed)
        await customer.ask_for_a_person(question, ask_person)
        cid = customer.conversation_id

        # waiting: an agent who could accept it reads its notes; one who could not is refused
        assert await otto.call("GET", notes_path(cid)) == (200, [])
        status, body = await kaito.call("GET", notes_path(cid))
        if language == "ja":
            assert (status, body) == (200, [])
        else:
            assert status == 403 and body["error"]["code"] == "not_yours"

        status, view = await nora.accept(cid)
        assert status == 200 and view["notes"] == []
        customer_ws = await customer.socket_from_now()
        nora_ws = await agent_socket(session, url, nora)
        otto_ws = await agent_socket(session, url, otto)

        # nora notes it: stored masked, and her console gets it live
        status, note = await nora.call("POST", notes_path(cid), {"text": note_text})
        assert status == 201, note
        assert (note["author"], note["conversation_id"]) == ("nora", cid)
        assert note["text"] == note_text.replace(card, "****-****-****-1111")
        [live] = [
            f
            for f in await frames_until(
                nora_ws, lambda f, _: f["type"] == "note" and f["conversation_id"] == cid
            )
            if f["type"] == "note"
        ]
        assert live == {"type": "note", **note}

        # a supervisor reads it and adds one; nora's console gets that one too
        status, listed = await lead.call("GET", notes_path(cid))
        assert (status, listed) == (200, [note])
        status, lead_note = await lead.call(
            "POST", notes_path(cid), {"text": SUPERVISOR_NOTES[language]}
        )
        assert status == 201 and lead_note["author"] == "sol"
        await frames_until(
            nora_ws, lambda f, _: f["type"] == "note" and f.get("id") == lead_note["id"]
        )
        status, listed = await nora.call("GET", notes_path(cid))
        assert (status, listed) == (200, [note, lead_note])
        status, view = await nora.call("GET", f"/api/agent/conversations/{cid}")
        assert status == 200 and view["notes"] == [note, lead_note]

        # otto (not his chat now), and the customer's own token, are refused, as JSON
        for method, body in (("GET", None), ("POST", {"text": "otto was here"})):
            status, answer = await otto.call(method, notes_path(cid), body)
            assert status == 403 and answer["error"]["code"] == "not_yours", answer
            status, kind, answer = await raw(
                session,
                method,
                url + notes_path(cid),
                customer.token,
                json.dumps(body).encode() if body else None,
            )
            # not an agent session at all: 401, before anything about the conversation
            assert status == 401 and kind == "application/json" and answer["error"]["message"]
        assert await no_note_frames(otto_ws, 1.0) == []

        # the customer sees none of it: the agent's next message comes, no note before it
        assert (await nora.write(cid, agent_says))[0] == 201
        frames = await frames_until(
            customer_ws,
            lambda f, _: f["type"] == "message" and f["role"] == "agent",
        )
        said = json.dumps(frames, ensure_ascii=False)
        assert frames[-1]["text"] == agent_says
        assert all(f["type"] != "note" for f in frames)
        for text in (note_text, note["text"], SUPERVISOR_NOTES[language], "VIP"):
            assert text not in said
        async with session.get(
            f"{url}/api/conversations/{cid}", headers=customer.headers
        ) as response:
            # the whole body as text (JSON escapes non-ASCII: undone, so a search means something)
            transcript = json.dumps(await response.json(), ensure_ascii=False)
        assert response.status == 200 and agent_says in transcript
        for text in (note["text"], SUPERVISOR_NOTES[language], "VIP", card):
            assert text not in transcript
        for ws in (customer_ws, nora_ws, otto_ws):
            await ws.close()

        # resolved: nora (its last agent) still reads them; the customer's next chat shows
        # this one as earlier, without a word of its notes, and starts with none
        assert (await nora.resolve(cid))[0] == 200
        assert (await nora.call("GET", notes_path(cid)))[0] == 200
        again = await signed_customer(session, url, language, signed)
        view = await handed_to(nora, again, detail, ask_person)
        earlier = view["customer"]["earlier_conversations"]
        assert cid in [e["conversation_id"] for e in earlier]
        assert view["notes"] == []
        for text in (note["text"], SUPERVISOR_NOTES[language], "VIP"):
            assert text not in json.dumps(view, ensure_ascii=False)
        assert (await nora.resolve(again.conversation_id))[0] == 200


async def test_hostile_note_bodies_get_json_errors(
    live_stack: Stack, people: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login("sol", PASSWORD)
        customer = await Customer(session, url).start("en")
        path = url + notes_path(customer.conversation_id)
        bodies: list[tuple[bytes, int, str]] = [
            (b'{"text": ""}', 400, "non-empty"),
            (b'{"text": " \\n\\t\\u3000 "}', 400, "non-empty"),
            (b'{"text": 42}', 400, "text"),
            (b'{"text": null}', 400, "text"),
            (b'{"text": ["VIP"]}', 400, "text"),
            (b'{"text": {"a": 1}}', 400, "text"),
            (b"{}", 400, "text"),
            (b'{"text": "\\ud800 lone"}', 400, "surrogate"),
            (b'{"text": "x"', 400, "JSON"),
            (b'["a note"]', 400, "object"),
            (b"\xff\xfe not utf-8", 400, "UTF-8"),
            (json.dumps({"text": "x" * 2001}).encode(), 400, "the limit is 2000"),
            (json.dumps({"text": "x" * 70_000}).encode(), 413, "larger"),
        ]
        for body, expected, says in bodies:
            status, kind, answer = await raw(session, "POST", path, lead.token, body)
            assert (status, kind) == (expected, "application/json"), (body[:40], answer)
            assert says in answer["error"]["message"], (body[:40], answer)
        # nothing of it was stored
        assert await lead.call("GET", notes_path(customer.conversation_id)) == (200, [])

        # unknown or impossible conversation ids: 404 JSON, for reads and writes
        for cid in ("no-such-conversation", "%ED%A0%80", "%00", "x" * 500):
            for method in ("GET", "POST"):
                status, kind, answer = await raw(
                    session,
                    method,
                    url + notes_path(cid),
                    lead.token,
                    b'{"text": "a note"}' if method == "POST" else None,
                )
                assert (status, kind) == (404, "application/json"), (cid, method, answer)
                assert answer["error"]["code"] == "not_found"

        # exactly at the limit, and with a character a NUL would have been: stored
        status, note = await lead.call(
            "POST", notes_path(customer.conversation_id), {"text": "가" * 2000}
        )
        assert status == 201 and note["text"] == "가" * 2000
        status, note = await lead.call(
            "POST", notes_path(customer.conversation_id), {"text": "a\x00b"}
        )
        assert status == 201 and note["text"] == "a\ufffdb"
