"""An agent transfers their chat on the real stack, in ko, ja and en: to a colleague (who
gets it with the transcript and the reason) or to a team's queue (whose agents see it and
accept it); the customer is told politely in their language and never sees the reason;
hostile bodies get a 4xx naming what is wrong."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, agent_socket, handed_to
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_websocket import frames_until

pytestmark = pytest.mark.e2e

PASSWORD = "transfer-password-1"
# Agents of this module only (display name = what the customer is told), so other modules'
# chats never fill their seats. `vic` is the team: the only one with the skill.
TEAM = "billing_transfer"
PEOPLE = {
    "tom": ("Tom", ""),
    "uma": ("Uma", ""),
    "vic": ("Vic", TEAM),
}
CARD = "4111 1111 1111 1111"
REASON = "customer wants a refund over the limit"


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (display_name, skills) in PEOPLE.items():
        options = ("--display-name", display_name, "--skills", skills)
        add_agent(live_stack.settings, username, PASSWORD, *options)
    return {username: PASSWORD for username in PEOPLE}


def transfer_path(conversation_id: str, what: str = "transfer") -> str:
    return f"/api/agent/conversations/{conversation_id}/{what}"


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_an_agent_transfers_a_chat_to_a_colleague(
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
        tom = await AgentClient(session, url).login("tom", PASSWORD)
        uma = await AgentClient(session, url).login("uma", PASSWORD)
        tom_ws, uma_ws = (
            await agent_socket(session, url, tom),
            await agent_socket(session, url, uma),
        )
        customer = await Customer(session, url).start()
        await handed_to(tom, customer, question, ask_person)
        customer_ws = await customer.socket_from_now()

        # uma is among the colleagues who could take it; tom is not
        status, options = await tom.call(
            "GET", transfer_path(customer.conversation_id, "transfer-options")
        )
        assert status == 200, options
        usernames = [a["username"] for a in options["agents"]]
        assert "uma" in usernames and "tom" not in usernames
        # only the agent who has the chat may transfer it
        body = {"to_agent": "tom", "reason": REASON}
        status, refused = await uma.call("POST", transfer_path(customer.conversation_id), body)
        assert status == 403 and refused["error"]["code"] == "not_yours"

        reason = f"{REASON}; card {CARD}"
        body = {"to_agent": "uma", "reason": reason}
        status, moved = await tom.call("POST", transfer_path(customer.conversation_id), body)
        assert status == 200, moved
        assert (moved["agent"], moved["from_agent"], moved["state"]) == ("uma", "tom", "assigned")

        # uma's console gets the chat, its transcript, and the transfer with its reason
        frames = await frames_until(
            uma_ws,
            lambda f, _: (
                f["type"] == "assigned" and f["conversation_id"] == customer.conversation_id
            ),
        )
        given = frames[-1]
        assert given["transfer"]["from_agent"] == "tom"
        view: dict[str, Any] = given["view"]
        assert question in [t["text"] for t in view["transcript"]]
        [listed] = view["transfers"]
        assert (listed["from_agent"], listed["to_agent"]) == ("tom", "uma")
        assert listed["reason"].startswith(REASON) and CARD not in listed["reason"]
        status, reread = await uma.call(
            "GET", f"/api/agent/conversations/{customer.conversation_id}"
        )
        assert status == 200 and reread["transfers"] == view["transfers"]
        # tom's console drops it
        await frames_until(
            tom_ws,
            lambda f, _: (
                f["type"] == "state"
                and f["conversation_id"] == customer.conversation_id
                and f["state"] == "reassigned"
                and f["agent"] == "uma"
            ),
        )
        # the customer: a polite line in their language, the new name, never the reason
        frames = await frames_until(
            customer_ws, lambda f, _: f["type"] == "state" and f.get("agent") == "Uma"
        )
        [notice] = [f for f in frames if f["type"] == "message" and f["role"] == "system"]
        assert "Uma" in notice["text"] and detect_language(notice["text"]) == language
        assert REASON not in str(frames) and "refund over" not in str(frames)

        # uma answers; tom cannot
        assert (await customer.say(detail))["state"] == "assigned"
        assert (await uma.write(customer.conversation_id, agent_says))[0] == 201
        status, body = await tom.write(customer.conversation_id, "still me")
        assert status == 403 and body["error"]["code"] == "not_yours"
        history = await customer.transcript()
        assert REASON not in str(history)
        assert agent_says in [m["text"] for m in history["messages"]]
        assert (await uma.resolve(customer.conversation_id))[0] == 200
        for ws in (tom_ws, uma_ws, customer_ws):
            await ws.close()


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_an_agent_transfers_a_chat_to_a_team_queue(
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
        tom = await AgentClient(session, url).login("tom", PASSWORD)
        vic = await AgentClient(session, url).login("vic", PASSWORD)  # here: the team is online
        customer = await Customer(session, url).start()
        await handed_to(tom, customer, question, ask_person)
        customer_ws = await customer.socket_from_now()
        status, options = await tom.call(
            "GET", transfer_path(customer.conversation_id, "transfer-options")
        )
        assert status == 200 and TEAM in options["teams"], options

        body = {"to_skill": TEAM, "reason": REASON}
        status, queued = await tom.call("POST", transfer_path(customer.conversation_id), body)
        assert status == 200, queued
        assert (queued["state"], queued["skill"]) == ("queued", TEAM)
        assert queued["queue"]["position"] >= 1

        # the customer waits again, told so in their language with their place in the queue
        frames = await frames_until(
            customer_ws, lambda f, _: f["type"] == "state" and f["state"] == "queued"
        )
        [notice] = [f for f in frames if f["type"] == "message" and f["role"] == "system"]
        assert detect_language(notice["text"]) == language
        assert str(queued["queue"]["position"]) in notice["text"]
        assert frames[-1]["queue"]["position"] == queued["queue"]["position"]
        assert REASON not in str(frames)

        # the team sees it and takes it, with the reason; tom no longer has it
        assert customer.conversation_id in [i["conversation_id"] for i in await vic.queue()]
        assert customer.conversation_id not in [i["conversation_id"] for i in await tom.queue()]
        status, view = await vic.accept(customer.conversation_id)
        assert status == 200, view
        [listed] = view["transfers"]
        assert (listed["from_agent"], listed["to_skill"], listed["reason"]) == ("tom", TEAM, REASON)
        assert (await vic.write(customer.conversation_id, agent_says))[0] == 201
        assert REASON not in str(await customer.transcript())
        assert (await vic.resolve(customer.conversation_id))[0] == 200
        await customer_ws.close()


@pytest.mark.parametrize(
    ("body", "status", "code", "names"),
    [
        ({"reason": REASON}, 400, "bad_request", "to_agent"),  # neither target
        ({"to_agent": "uma", "to_skill": TEAM, "reason": REASON}, 400, "bad_request", "to_skill"),
        ({"to_agent": "uma"}, 400, "bad_request", "reason"),
        ({"to_agent": "uma", "reason": "  "}, 400, "bad_request", "reason"),
        ({"to_agent": "uma", "reason": "x" * 501}, 400, "bad_request", "500"),
        ({"to_agent": 7, "reason": REASON}, 400, "bad_request", "to_agent"),
        ({"to_skill": ["a"], "reason": REASON}, 400, "bad_request", "to_skill"),
        ({"to_agent": "uma", "reason": REASON, "force": True}, 400, "bad_request", "force"),
        ([1, 2], 400, "bad_request", ""),
        ({"to_agent": "nobody-here", "reason": REASON}, 409, "unknown_agent", "nobody-here"),
        ({"to_agent": "tom", "reason": REASON}, 409, "already_assigned", "tom"),
        ({"to_skill": "astrology", "reason": REASON}, 409, "unknown_skill", "astrology"),
    ],
)
async def test_hostile_transfers_are_refused_with_a_clear_error(
    live_stack: Stack,
    people: dict[str, str],
    body: Any,
    status: int,
    code: str,
    names: str,
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        tom = await AgentClient(session, url).login("tom", PASSWORD)
        customer = await Customer(session, url).start()
        await handed_to(tom, customer, *FLOWS[2][1:3])
        got, answer = await tom.call("POST", transfer_path(customer.conversation_id), body)
        assert got == status, answer
        assert answer["error"]["code"] == code and names in answer["error"]["message"]
        assert (await tom.resolve(customer.conversation_id))[0] == 200  # still tom's


async def test_unknown_conversations_and_huge_bodies_are_refused(
    live_stack: Stack, people: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        tom = await AgentClient(session, url).login("tom", PASSWORD)
        body = {"to_agent": "uma", "reason": REASON}
        status, answer = await tom.call("POST", transfer_path("no-such-chat"), body)
        assert status == 404 and answer["error"]["code"] == "not_found"
        status, answer = await tom.call("GET", transfer_path("no-such-chat", "transfer-options"))
        assert status == 404 and answer["error"]["code"] == "not_found"
        customer = await Customer(session, url).start()
        huge = {"to_agent": "uma", "reason": "x" * 70_000}
        status, answer = await tom.call("POST", transfer_path(customer.conversation_id), huge)
        assert status == 413, answer
        # a chat with the bot is nobody's to transfer
        status, answer = await tom.call("POST", transfer_path(customer.conversation_id), body)
        assert status == 403 and answer["error"]["code"] == "not_yours"
        async with session.post(
            f"{url}{transfer_path(customer.conversation_id)}", json=body
        ) as anonymous:
            assert anonymous.status == 401
