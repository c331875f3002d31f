"""A supervisor moves a chat from one agent to another on the real stack, in ko, ja and en:
the new agent's console gets it with the transcript, their reply reaches the customer, the
old agent can no longer reply; and the analytics page's reassign control does the same."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import pytest
from playwright.sync_api import Browser, Page

from common.language import detect_language
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, agent_socket, handed_to
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_websocket import frames_until
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = pytest.mark.e2e

PASSWORD = "reassign-password-1"
T = TypeVar("T")
# Agents of this module only (display name = what the customer is told), so other
# modules' chats never fill their seats.
PEOPLE = {"ana": ("Ana", "agent"), "ben": ("Ben", "agent"), "rhea": ("Rhea", "supervisor")}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (display_name, role) in PEOPLE.items():
        add_agent(
            live_stack.settings, username, PASSWORD, "--display-name", display_name, "--role", role
        )
    return {username: PASSWORD for username in PEOPLE}


def reassign_path(conversation_id: str) -> str:
    return f"/api/agent/conversations/{conversation_id}/reassign"


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_supervisor_moves_a_chat_to_another_agent(
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
        ana = await AgentClient(session, url).login("ana", PASSWORD)
        ben = await AgentClient(session, url).login("ben", PASSWORD)
        lead = await AgentClient(session, url).login("rhea", PASSWORD)
        ana_ws, ben_ws = (
            await agent_socket(session, url, ana),
            await agent_socket(session, url, ben),
        )
        customer = await Customer(session, url).start()
        await handed_to(ana, customer, question, ask_person)
        customer_ws = await customer.socket_from_now()

        # an agent may not move chats; the supervisor may
        status, body = await ana.call(
            "POST", reassign_path(customer.conversation_id), {"agent": "ben"}
        )
        assert status == 403 and body["error"]["code"] == "supervisors_only"
        status, body = await lead.call(
            "POST", reassign_path(customer.conversation_id), {"agent": "ben"}
        )
        assert status == 200, body
        assert (body["agent"], body["from_agent"]) == ("ben", "ana")

        # ben's console gets the chat with its context and the whole transcript
        frames = await frames_until(
            ben_ws,
            lambda f, _: (
                f["type"] == "assigned" and f["conversation_id"] == customer.conversation_id
            ),
        )
        view: dict[str, Any] = frames[-1]["view"]
        said = [t["text"] for t in view["transcript"]]
        assert question in said and ask_person in said
        assert (view["language"], view["reason"], frames[-1]["by"]) == (
            language,
            "requested",
            "rhea",
        )
        # ana's console drops it
        await frames_until(
            ana_ws,
            lambda f, _: (
                f["type"] == "state"
                and f["conversation_id"] == customer.conversation_id
                and f["state"] == "reassigned"
                and f["agent"] == "ben"
            ),
        )
        # the customer is told, in their language, who has the chat now
        frames = await frames_until(
            customer_ws, lambda f, _: f["type"] == "state" and f.get("agent") == "Ben"
        )
        [notice] = [f for f in frames if f["type"] == "message" and f["role"] == "system"]
        assert "Ben" in notice["text"] and detect_language(notice["text"]) == language

        # ben's reply reaches the customer; ana's are refused
        assert (await customer.say(detail))["state"] == "assigned"
        await frames_until(ben_ws, lambda f, _: f["type"] == "message" and f.get("text") == detail)
        status, _ = await ben.write(customer.conversation_id, agent_says)
        assert status == 201
        await frames_until(
            customer_ws,
            lambda f, _: (
                f["type"] == "message" and f["role"] == "agent" and f["text"] == agent_says
            ),
        )
        status, body = await ana.write(customer.conversation_id, "I am still here")
        assert status in (403, 409) and body["error"]["code"] == "not_yours"
        status, _ = await ana.resolve(customer.conversation_id)
        assert status == 403
        assert "I am still here" not in [
            m["text"] for m in (await customer.transcript())["messages"]
        ]

        # ben resolves; a move after that is a conflict
        assert (await ben.resolve(customer.conversation_id))[0] == 200
        status, body = await lead.call(
            "POST", reassign_path(customer.conversation_id), {"agent": "ana"}
        )
        assert status == 409 and body["error"]["code"] == "not_waiting"
        for ws in (ana_ws, ben_ws, customer_ws):
            await ws.close()


async def _waiting_with_ana(url: str) -> str:
    """A customer handed to ana; ben signs in (online for the next minutes)."""
    async with aiohttp.ClientSession() as session:
        ana = await AgentClient(session, url).login("ana", PASSWORD)
        await AgentClient(session, url).login("ben", PASSWORD)
        customer = await Customer(session, url).start()
        await handed_to(ana, customer, *FLOWS[2][1:3])
        return customer.conversation_id


async def _agent_of(url: str, conversation_id: str) -> tuple[str | None, int]:
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login("rhea", PASSWORD)
        status, live = await lead.call("GET", "/api/agent/live")
        assert status == 200, live
        chat = next(c for c in live["chats"] if c["conversation_id"] == conversation_id)
        ben = await AgentClient(session, url).login("ben", PASSWORD)
        status, _ = await ben.resolve(conversation_id)  # clean up: ben's seat is free again
        return chat["agent"], status


def beside_the_browser(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end on a thread of its own: Playwright's sync API keeps an event
    loop running on this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


@pytest.mark.browser
def test_the_now_panel_reassigns_and_updates_live(
    live_stack: Stack,
    people: dict[str, str],
    browser: Browser,  # noqa: F811
) -> None:
    url = live_stack.settings.gateway_url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{url}/agent/analytics")
        page.fill("#username", "rhea")
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        wait_until(page, "window.maruLive && window.maruLive.connected")
        # a chat taken after the page opened shows up without a reload: pushed
        conversation_id = beside_the_browser(_waiting_with_ana(url))
        row = f'#live-chats tr[data-conversation-id="{conversation_id}"]'
        wait_until(page, f"document.querySelector('{row} .chat-agent')?.textContent === 'Ana'")
        assert page.locator(f"{row} .chat-state").inner_text() == "With an agent"
        # the control: pick ben, reassign; the row follows with the next pushed frame
        page.select_option(f"{row} select.reassign-agent", "ben")
        page.click(f"{row} button.reassign")
        wait_until(page, "window.maruLive.lastResult && window.maruLive.lastResult.agent === 'ben'")
        wait_until(page, f"document.querySelector('{row} .chat-agent')?.textContent === 'Ben'")
        assert "now with ben" in page.locator("#live-result").inner_text()
        agent, resolved = beside_the_browser(_agent_of(url, conversation_id))
        assert (agent, resolved) == ("ben", 200)
        # resolved: the row goes away, again without a reload
        wait_until(page, f"!document.querySelector('{row}')")
        assert errors == []
    finally:
        context.close()
