"""Offline tickets worked at the desk, on a gateway of its own beside the live stack (so
nobody is online when the customers ask for a person): tickets left the real way in ko,
ja and en, claimed, answered and closed over the API; the customer's transcript and
websocket get the reply; a second claimer gets 409; hostile input is a 4xx, never a 500;
nothing private reaches the log."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from handoff.customer.texts import load_texts
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.client import AgentClient, Customer
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_websocket import frames_until, open_socket

pytestmark = pytest.mark.e2e

PASSWORD = "ticket-desk-password-8"
AMY, BEN = "amy", "ben"
LOG_NAME = "tickets-gateway"
TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
LEFT = {
    "ko": ("상담원 연결해 주세요", "환불 문의요. 제 메일은 minji.ticket@example.com 이에요"),
    "ja": ("人と話したい", "返金の件です。連絡先は aiko.ticket@example.jp です"),
    "en": ("talk to a human", "refund please, reach me at sam.ticket@example.com"),
}
ANSWER = {
    "ko": "환불 처리해 드렸어요. 3일 안에 입금됩니다.",
    "ja": "返金手続きをいたしました。3日以内に入金されます。",
    "en": "We refunded your order; it arrives within 3 days.",
}


@dataclass(frozen=True)
class Left:
    """A customer who left a ticket: their conversation and token, the ticket's message."""

    conversation_id: str
    token: str
    language: str


@dataclass(frozen=True)
class Desk:
    url: str
    state: Path
    log: Path
    left: dict[str, Left]  # ko, ja, en, and "spare" (en) for releases and races


async def leave_ticket(url: str, language: str) -> Left:
    ask, contact = LEFT[language]
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start(language)
        queued = await customer.say(ask)
        ticket = await customer.say(contact)
    assert queued["state"] == "queued", queued
    assert ticket["state"] == "bot", ticket  # the message became a ticket
    return Left(customer.conversation_id, customer.token, language)


@pytest.fixture(scope="module")
def desk(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A gateway with two agents who have not signed in yet: the tickets are left while
    nobody is online, before any test signs one in."""
    state = tmp_path_factory.mktemp("tickets-gateway")
    agents = [(AMY, PASSWORD), (BEN, PASSWORD)]
    with gateway_beside(live_stack.settings, state, LOG_NAME, agents=agents) as url:

        async def leave_all() -> dict[str, Left]:
            left = {lang: await leave_ticket(url, lang) for lang in ("ko", "ja", "en")}
            left["spare"] = await leave_ticket(url, "en")
            return left

        left = asyncio.run(leave_all())
        yield Desk(url, state, live_stack.settings.log_dir / f"{LOG_NAME}.log", left)


async def agents(session: aiohttp.ClientSession, url: str) -> tuple[AgentClient, AgentClient]:
    return (
        await AgentClient(session, url).login(AMY, PASSWORD),
        await AgentClient(session, url).login(BEN, PASSWORD),
    )


async def ticket_of(agent: AgentClient, conversation_id: str, view: str = "all") -> Any:
    status, tickets = await agent.call("GET", f"/api/agent/tickets?view={view}")
    assert status == 200, tickets
    found = [t for t in tickets if t["conversation_id"] == conversation_id]
    return found[0] if found else None


def customer_of(session: aiohttp.ClientSession, url: str, left: Left) -> Customer:
    customer = Customer(session, url)
    customer.conversation_id, customer.token = left.conversation_id, left.token
    return customer


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_ticket_is_claimed_answered_and_closed(desk: Desk, language: str) -> None:
    left = desk.left[language]
    async with aiohttp.ClientSession() as session:
        amy, ben = await agents(session, desk.url)
        ticket = await ticket_of(amy, left.conversation_id, "open")
        number = ticket["ticket_id"]
        claimed = await amy.call("POST", f"/api/agent/tickets/{number}/claim")
        second = await ben.call("POST", f"/api/agent/tickets/{number}/claim")
        bens_reply = await ben.call("POST", f"/api/agent/tickets/{number}/reply", {"text": "hi"})
        seen_by_ben = await ticket_of(ben, left.conversation_id)
        customer = customer_of(session, desk.url, left)
        before = await customer.transcript()
        ws = await open_socket(session, desk.url, customer, before["messages"][-1]["seq"])
        replied = await amy.call(
            "POST", f"/api/agent/tickets/{number}/reply", {"text": ANSWER[language]}
        )
        frames = await frames_until(
            ws, lambda f, _: f.get("type") == "message" and f.get("role") == "agent"
        )
        await ws.close()
        closed = await amy.call(
            "POST", f"/api/agent/tickets/{number}/close", {"resolution": "refunded"}
        )
        late = await amy.call("POST", f"/api/agent/tickets/{number}/reply", {"text": "again"})
        after = await customer.transcript()
        mine = await ticket_of(amy, left.conversation_id, "mine")
    assert ticket["state"] == "open" and ticket["language"] == language
    assert claimed[0] == 200 and claimed[1]["claimed_by"] == AMY
    assert (second[0], second[1]["error"]["code"]) == (409, "ticket_claimed")
    assert (bens_reply[0], bens_reply[1]["error"]["code"]) == (409, "not_yours")
    assert (seen_by_ben["state"], seen_by_ben["claimed_by"]) == ("claimed", AMY)
    assert replied[0] == 201 and replied[1]["ticket"]["state"] == "answered"
    notice = TEXTS.say("ticket_answered", language, ticket=number)
    live = [(f["role"], f["text"]) for f in frames if f.get("type") == "message"]
    assert live[-2:] == [("system", notice), ("agent", ANSWER[language])]
    assert detect_language(notice) == language
    said = [(m["role"], m["text"]) for m in after["messages"]]
    assert said[-2:] == [("system", notice), ("agent", ANSWER[language])]
    assert closed[0] == 200 and closed[1]["state"] == "closed"
    assert closed[1]["resolution"] == "refunded"
    assert (late[0], late[1]["error"]["code"]) == (409, "ticket_closed")
    assert mine is None  # closed: no longer on amy's desk
    with sqlite3.connect(desk.state / "handoff.sqlite3") as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM events WHERE conversation_id = ? AND name LIKE 'ticket_%'"
                " ORDER BY id",
                (left.conversation_id,),
            )
        ]
    assert names == ["ticket_claim", "ticket_reply", "ticket_close"]
    log = desk.log.read_text(encoding="utf-8")
    assert ANSWER[language] not in log
    [email] = re.findall(r"[\w.]+@[\w.]+", LEFT[language][1])
    assert email not in log
    assert "Traceback" not in log


async def test_a_claim_is_released_and_of_two_claims_at_once_one_wins(desk: Desk) -> None:
    left = desk.left["spare"]
    async with aiohttp.ClientSession() as session:
        amy, ben = await agents(session, desk.url)
        number = (await ticket_of(amy, left.conversation_id))["ticket_id"]
        path = f"/api/agent/tickets/{number}"
        raced = await asyncio.gather(
            amy.call("POST", f"{path}/claim"), ben.call("POST", f"{path}/claim")
        )
        winner, loser = (amy, ben) if raced[0][0] == 200 else (ben, amy)
        not_theirs = await loser.call("POST", f"{path}/release")
        released = await winner.call("POST", f"{path}/release")
        again = await winner.call("POST", f"{path}/release")
        reclaimed = await loser.call("POST", f"{path}/claim")
        open_now = await ticket_of(winner, left.conversation_id, "open")
    assert sorted(status for status, _ in raced) == [200, 409]
    assert [body["error"]["code"] for status, body in raced if status == 409] == ["ticket_claimed"]
    assert (not_theirs[0], not_theirs[1]["error"]["code"]) == (409, "not_yours")
    assert released[0] == 200 and released[1]["state"] == "open"
    assert released[1]["claimed_by"] is None
    assert (again[0], again[1]["error"]["code"]) == (409, "ticket_not_claimed")
    assert reclaimed[0] == 200 and reclaimed[1]["state"] == "claimed"
    assert open_now is None


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("reply", {"text": ""}, 400, "bad_request"),
        ("reply", {"text": "   "}, 400, "bad_request"),
        ("reply", {"text": 7}, 400, "bad_request"),
        ("reply", {"text": "x" * 2001}, 400, "bad_request"),
        ("reply", {"text": "hi", "to": "everyone"}, 400, "bad_request"),
        ("reply", ["text"], 400, "bad_request"),
        ("reply", "{not json", 400, "bad_request"),
        ("reply", "x" * 70_000, 413, "too_large"),
        ("close", {"resolution": 5}, 400, "bad_request"),
        ("close", {"resolution": "r" * 501}, 400, "bad_request"),
    ],
)
async def test_hostile_bodies_are_refused_with_a_clear_error(
    desk: Desk, path: str, body: Any, status: int, code: str
) -> None:
    async with aiohttp.ClientSession() as session:
        amy, _ = await agents(session, desk.url)
        number = (await ticket_of(amy, desk.left["ko"].conversation_id))["ticket_id"]
        data = body if isinstance(body, str) else None
        async with session.post(
            f"{desk.url}/api/agent/tickets/{number}/{path}",
            json=None if data is not None else body,
            data=data,
            headers={**amy.headers, "Content-Type": "application/json"},
        ) as response:
            answer = await response.json()
            got = response.status
    assert got == status, answer
    assert answer["error"]["code"] in (code, "bad_request", "too_large")
    assert answer["error"]["message"]
    assert "Traceback" not in desk.log.read_text(encoding="utf-8")


@pytest.mark.parametrize("ticket", ["0", "abc", "-1", "99999999", "9" * 25, "１２"])
async def test_unknown_or_malformed_ticket_ids_are_404(desk: Desk, ticket: str) -> None:
    async with aiohttp.ClientSession() as session:
        amy, _ = await agents(session, desk.url)
        results = [
            await amy.call("POST", f"/api/agent/tickets/{ticket}/{action}", body)
            for action, body in (("claim", None), ("release", None), ("close", {}))
        ]
        reply = await amy.call("POST", f"/api/agent/tickets/{ticket}/reply", {"text": "hi"})
    for status, answer in [*results, reply]:
        assert (status, answer["error"]["code"]) == (404, "ticket_not_found")


async def test_the_list_refuses_an_unknown_view_and_strangers(desk: Desk) -> None:
    async with aiohttp.ClientSession() as session:
        amy, _ = await agents(session, desk.url)
        bad = await amy.call("GET", "/api/agent/tickets?view=everything")
        async with session.get(f"{desk.url}/api/agent/tickets") as response:
            stranger = response.status
        async with session.post(f"{desk.url}/api/agent/tickets/1/claim") as response:
            stranger_claim = response.status
    assert bad[0] == 400 and "view" in bad[1]["error"]["message"]
    assert stranger == stranger_claim == 401
