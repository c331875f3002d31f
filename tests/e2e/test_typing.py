"""Typing indicators both ways between a customer and the agent who has the chat: over
the websockets (what each side is sent, and what a flood or a bad frame costs), and in
real headless Chromium (the widget's dots, the console's "customer is typing")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Browser, Page, expect

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, agent_socket, handed_to
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff_browser import send, sign_in, two_pages  # noqa: F401 - fixture
from tests.e2e.test_websocket import frames_until, open_socket
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = pytest.mark.e2e

PASSWORD = "typing-agent-password-3"
AGENT = "tomo"  # this module's own agent, so no other test's chats count against it
ASK_PERSON = {"ko": "상담원 연결해 주세요", "ja": "人と話したい", "en": "talk to a human"}
CUSTOMER_LINE = {
    "ko": "주문 번호가 B-12 인데요",
    "ja": "注文番号はB-12です",
    "en": "my order is B-12",
}
AGENT_LINE = {"ko": "확인해 볼게요", "ja": "確認しますね", "en": "let me check"}


@pytest.fixture(scope="module")
def tomo(live_stack: Stack) -> str:
    add_agent(live_stack.settings, AGENT, PASSWORD, "--languages", "ko,ja,en")
    return AGENT


async def quiet(ws: aiohttp.ClientWebSocketResponse, seconds: float, kind: str) -> list[Any]:
    """The frames of type `kind` that `ws` receives within `seconds`."""
    found = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frame = await ws.receive_json()
                if frame.get("type") == kind:
                    found.append(frame)
    except TimeoutError:
        pass
    return found


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_typing_reaches_the_other_side_and_a_flood_costs_nothing(
    live_stack: Stack, tomo: str, session: aiohttp.ClientSession, language: str
) -> None:
    url = live_stack.settings.gateway_url
    customer = await Customer(session, url).start(language)
    customer_ws = await open_socket(session, url, customer)
    await frames_until(customer_ws, lambda f, _: f["type"] == "ready")
    agent = await AgentClient(session, url).login(tomo, PASSWORD)
    agent_ws = await agent_socket(session, url, agent)
    cid = customer.conversation_id
    try:
        # While the bot has the chat, typing goes nowhere (and is no error). (Waiting a
        # full second: the gateway asks the store at most once a second per socket.)
        await customer_ws.send_json({"type": "typing", "on": True})
        assert await quiet(agent_ws, 1.0, "typing") == []
        await handed_to(agent, customer, ASK_PERSON[language])

        # customer -> agent: on, then off, each once, naming the conversation
        await customer_ws.send_json({"type": "typing", "on": True})
        frames = await frames_until(agent_ws, lambda f, _: f["type"] == "typing")
        assert frames[-1] == {"type": "typing", "conversation_id": cid, "on": True}
        await customer_ws.send_json({"type": "typing", "on": False})
        frames = await frames_until(agent_ws, lambda f, _: f["type"] == "typing")
        assert frames[-1] == {"type": "typing", "conversation_id": cid, "on": False}

        assert await quiet(agent_ws, 1.0, "typing") == []  # told once, nothing more

        # a flood: one "on" passed on, the rest dropped; the socket still works
        for _ in range(200):
            await customer_ws.send_json({"type": "typing", "on": True})
        assert len(await quiet(agent_ws, 1.0, "typing")) == 1
        await customer_ws.send_json(
            {"type": "message", "client_id": "typing-1", "text": CUSTOMER_LINE[language]}
        )
        frames = await frames_until(customer_ws, lambda f, _: f["type"] == "ack")
        assert frames[-1]["client_id"] == "typing-1"
        got = await frames_until(agent_ws, lambda f, _: f["type"] == "message")
        assert got[-1]["text"] == CUSTOMER_LINE[language]

        # a bad typing frame: told why, nothing else happens
        await customer_ws.send_json({"type": "typing", "on": "yes"})
        frames = await frames_until(customer_ws, lambda f, _: f["type"] == "error")
        assert frames[-1]["code"] == "bad_frame" and "'on'" in frames[-1]["message"]

        # agent -> customer
        await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
        await frames_until(customer_ws, lambda f, _: f == {"type": "typing", "on": True})
        assert (await agent.write(cid, AGENT_LINE[language]))[0] == 201
        await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": False})
        await frames_until(customer_ws, lambda f, _: f == {"type": "typing", "on": False})
    finally:
        await agent.resolve(cid)
        await customer_ws.close()
        await agent_ws.close()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_the_widget_and_the_console_show_each_other_typing(
    live_stack: Stack,
    tomo: str,
    two_pages: tuple[Page, Page],  # noqa: F811 - the fixture imported above
    language: str,
) -> None:
    url = live_stack.settings.gateway_url
    widget, console = two_pages
    sign_in(console, url, tomo, PASSWORD)
    widget.goto(f"{url}/?lang={language}")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", ASK_PERSON[language])
    expect(widget.locator("#status")).to_be_visible(timeout=20_000)
    conversation_id = widget.evaluate("window.maruChat.conversationId")
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(widget.locator("#messages .msg-system").last).to_be_visible(timeout=10_000)
    wait_until(widget, "window.maruChat.state === 'assigned'")

    # the customer types (not sent yet): the console says so, in the agent's language
    widget.locator("#input").press_sequentially(CUSTOMER_LINE[language][:4], delay=50)
    expect(console.locator("#customer-typing")).to_be_visible(timeout=10_000)
    # and stops: after the idle time the console stops saying so
    expect(console.locator("#customer-typing")).to_be_hidden(timeout=10_000)

    # the agent types: the widget shows the dots; sending hides them
    console.locator("#composer").press_sequentially(AGENT_LINE[language][:3], delay=50)
    expect(widget.locator("#typing")).to_be_visible(timeout=10_000)
    console.locator("#composer").fill(AGENT_LINE[language])
    console.click("#send")
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(
        AGENT_LINE[language], timeout=10_000
    )
    expect(widget.locator("#typing")).to_be_hidden(timeout=10_000)

    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")


@pytest.mark.browser
def test_a_chat_opened_after_its_customer_began_typing_says_so(
    live_stack: Stack,
    tomo: str,
    browser: Browser,  # noqa: F811 - the fixture imported above
    two_pages: tuple[Page, Page],  # noqa: F811
) -> None:
    """The agent has two consoles open and accepts in one; the customer starts typing before
    the other has the chat open. Opening it there must still say "customer is typing" (the
    hint came once, with the first keystroke, and is not repeated for 10 s). The same race
    happens in one console when its accept's answer comes after the customer's keystroke."""
    url = live_stack.settings.gateway_url
    widget, first = two_pages
    second_context = browser.new_context(viewport={"width": 1280, "height": 800})
    second = second_context.new_page()
    typing_frames: list[str] = []
    second.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: (
                typing_frames.append(payload)
                if isinstance(payload, str) and '"typing"' in payload
                else None
            ),
        ),
    )
    try:
        sign_in(first, url, tomo, PASSWORD)
        sign_in(second, url, tomo, PASSWORD)
        widget.goto(f"{url}/?lang=ja")
        wait_until(widget, CONNECTED)
        send(widget, "#input", "#send", ASK_PERSON["ja"])
        expect(widget.locator("#status")).to_be_visible(timeout=20_000)
        conversation_id = widget.evaluate("window.maruChat.conversationId")
        first.locator(
            f".queue-item[data-conversation-id='{conversation_id}'] button.accept"
        ).click()
        wait_until(widget, "window.maruChat.state === 'assigned'")
        mine = second.locator(
            f"#my-conversations li[data-conversation-id='{conversation_id}'] button"
        )
        expect(mine).to_be_visible(timeout=10_000)  # listed there, not open
        expect(second.locator("#customer-typing")).to_be_hidden()

        widget.locator("#input").press_sequentially(CUSTOMER_LINE["ja"][:3], delay=50)
        for _ in range(100):  # the hint reached the second console (not yet shown: not open)
            if any(conversation_id in frame for frame in typing_frames):
                break
            second.wait_for_timeout(100)
        assert any(conversation_id in frame for frame in typing_frames), typing_frames
        mine.click()
        expect(second.locator("#customer-typing")).to_be_visible(timeout=2_000)
        # and it goes when the customer stops (the widget's "off" after 3 s idle)
        expect(second.locator("#customer-typing")).to_be_hidden(timeout=10_000)

        first.once("dialog", lambda dialog: dialog.accept())
        first.click("#resolve")
    finally:
        second_context.close()
