"""Availability in real headless Chromium, in ko, ja and en: two agents in two browser
contexts. A sets away in the console's header (in her language); a customer in a third
context (the widget) asks for a person: B's queue offers the chat, A's stays empty with
the reason, and A cannot take it. A supervisor's live view (a fourth context) shows A
away. A sets online again and takes the next chat."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_console_language_browser import BROWSER_LOCALES, queue_customer
from tests.e2e.test_handoff_browser import FLOWS, send, sign_in
from tests.e2e.test_widget_browser import (
    AGENT_CONNECTED,
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "availability-browser-password-6"
# Agents of this module only: username -> (display name, role). Both speak ko, ja, en.
PEOPLE = {"aiko": ("Aiko", "agent"), "bora": ("Bora", "agent"), "sena": ("Sena", "supervisor")}
# Written out here, not read from the table: an empty table, or English everywhere, fails.
WORDS = {
    "ko": {
        "label": "내 상태",
        "online": "온라인",
        "away": "자리 비움",
        "busy": "다른 용무 중",
        "paused": "자리 비움 상태라 새 상담이 배정되지 않습니다. "
        "상담을 받으려면 온라인으로 바꾸세요.",
        "empty": "대기 중인 고객이 없습니다.",
        "column": "상태",
    },
    "ja": {
        "label": "対応状況",
        "online": "オンライン",
        "away": "離席中",
        "busy": "取り込み中",
        "paused": "離席中のため、新しいチャットは届きません。"
        "受け付けるにはオンラインにしてください。",
        "empty": "待機中のお客様はいません。",
        "column": "対応状況",
    },
    "en": {
        "label": "My availability",
        "online": "Online",
        "away": "Away",
        "busy": "Busy",
        "paused": "You are away: no new chats are offered. Set yourself online to take chats.",
        "empty": "No one is waiting.",
        "column": "Availability",
    },
}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (display_name, role) in PEOPLE.items():
        options = ("--display-name", display_name, "--role", role, "--languages", "ko,ja,en")
        add_agent(live_stack.settings, username, PASSWORD, *options)
    return {username: PASSWORD for username in PEOPLE}


@pytest.fixture()
def four_contexts(browser: Browser) -> Iterator[Any]:  # noqa: F811
    """Opens pages in browser contexts of their own, in the language asked for."""
    contexts: list[BrowserContext] = []

    def open_page(lang: str, width: int = 1280) -> Page:
        context = browser.new_context(
            locale=BROWSER_LOCALES[lang], viewport={"width": width, "height": 900}
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def call(url: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """The gateway's JSON API, synchronously: status and parsed body (errors too)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def set_availability(console: Page, value: str) -> None:
    console.select_option("#availability", value)
    wait_until(console, f"window.maruAgent.availability === '{value}'")
    expect(console.locator("#availability")).to_have_attribute("data-availability", value)


@pytest.mark.parametrize("lang", ["ko", "ja", "en"])
def test_an_away_agent_is_offered_no_chats_until_online_again(
    live_stack: Stack, people: dict[str, str], four_contexts: Any, lang: str
) -> None:
    url = live_stack.settings.gateway_url
    words = WORDS[lang]
    [(_, question, ask_person, *_)] = [flow for flow in FLOWS if flow[0] == lang]
    console_a, console_b = four_contexts(lang), four_contexts("en")
    widget, lead = four_contexts(lang, 390), four_contexts(lang)
    errors: list[str] = []
    for page in (console_a, console_b, widget, lead):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A signs in online; the header's menu speaks her language
    sign_in(console_a, url, "aiko", PASSWORD)
    sign_in(console_b, url, "bora", PASSWORD)
    menu = console_a.locator("#availability")
    expect(menu).to_have_value("online")
    expect(menu).to_have_attribute("aria-label", words["label"])
    assert menu.locator("option").all_inner_texts() == [
        words["online"],
        words["away"],
        words["busy"],
    ]
    assert console_a.locator("#queue").get_attribute("data-empty") == words["empty"]

    edge = "el => getComputedStyle(el).borderLeftColor"  # green, amber, red: not only a word
    assert menu.evaluate(edge) == "rgb(95, 211, 141)"

    # A steps away: her queue says why it is empty, and a reload keeps it (stored, not local)
    set_availability(console_a, "away")
    assert menu.evaluate(edge) == "rgb(245, 196, 81)"
    expect(console_a.locator("#queue")).to_have_attribute("data-empty", words["paused"])
    console_a.reload()
    wait_until(console_a, AGENT_CONNECTED)
    expect(menu).to_have_value("away")
    expect(console_a.locator("#queue")).to_have_attribute("data-empty", words["paused"])
    token_a = str(console_a.evaluate("window.maruAgent.token"))

    # the supervisor's live view shows her away, in the supervisor's language
    lead.goto(f"{url}/agent/analytics")
    lead.fill("#username", "sena")
    lead.fill("#password", PASSWORD)
    lead.click("#login-button")
    wait_until(lead, "window.maruLive && window.maruLive.connected", 60)
    row_a = lead.locator("#live-agents tbody tr", has_text="Aiko")
    expect(row_a.locator("td.availability")).to_have_text(words["away"], timeout=20_000)
    expect(row_a.locator("td.availability")).to_have_attribute("data-availability", "away")
    assert lead.locator("#live-agents thead th").nth(1).inner_text() == words["column"]

    # a customer asks for a person: B's queue offers the chat, A's does not
    widget.goto(f"{url}/?lang={lang}")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", question)
    expect(widget.locator("#messages .msg-bot").first).to_be_visible(timeout=20_000)
    send(widget, "#input", "#send", ask_person)
    expect(widget.locator("#status")).to_be_visible(timeout=20_000)
    first = widget.evaluate("window.maruChat.conversationId")
    offered_b = console_b.locator(f".queue-item[data-conversation-id='{first}']")
    expect(offered_b).to_be_visible(timeout=20_000)
    console_a.wait_for_timeout(1500)  # queue frames go out at most every 0.5 s
    expect(console_a.locator("#queue .queue-item")).to_have_count(0)
    expect(console_a.locator("#queue-count")).to_have_text("0")
    # nor can she take it (no auto-assignment either: it waits for B)
    status, refused = call(url, "POST", f"/api/agent/conversations/{first}/accept", token_a)
    assert (status, refused["error"]["code"]) == (409, "not_available")
    offered_b.locator("button.accept").click()
    expect(console_b.locator("#transcript")).to_contain_text(ask_person, timeout=10_000)

    # busy: no chats either, and the menu shows it
    set_availability(console_a, "busy")
    expect(menu).to_have_value("busy")
    assert menu.evaluate(edge) == "rgb(255, 138, 128)"
    expect(row_a.locator("td.availability")).to_have_text(words["busy"], timeout=20_000)

    # online again: the next chat is offered to her, and she takes it
    set_availability(console_a, "online")
    expect(console_a.locator("#queue")).to_have_attribute("data-empty", words["empty"])
    expect(row_a.locator("td.availability")).to_have_text(words["online"], timeout=20_000)
    second = queue_customer(url, lang)
    offered_a = console_a.locator(f".queue-item[data-conversation-id='{second}']")
    expect(offered_a).to_be_visible(timeout=20_000)
    offered_a.locator("button.accept").click()
    wait_until(console_a, f"window.maruAgent.selected === '{second}'")
    expect(console_a.locator("#conversation-state")).not_to_be_empty(timeout=10_000)

    # both chats go back to the bot: the agents' seats are free for the next language
    token_b = str(console_b.evaluate("window.maruAgent.token"))
    assert call(url, "POST", f"/api/agent/conversations/{first}/resolve", token_b)[0] == 200
    assert call(url, "POST", f"/api/agent/conversations/{second}/resolve", token_a)[0] == 200
    assert errors == []
