"""Private notes in real headless Chromium: agent A notes a chat in the console's Notes
panel; a supervisor moves the chat to agent B, whose console (in Japanese) opens it with
the note, and gets the supervisor's next note live; the customer's widget, open all along
in a third browser context, never shows a word of either."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff_browser import send, sign_in
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "notes-browser-password-5"
# Agents of this module only: username -> (display name, role).
PEOPLE = {"nia": ("Nia", "agent"), "obi": ("Obi", "agent"), "sage": ("Sage", "supervisor")}
QUESTION = "환불은 언제 받을 수 있어요"
ASK_PERSON = "상담원 연결해 주세요"
NOTE_BY_A = "VIP 고객: 재무팀 환불 승인 완료 (카드 4111 1111 1111 1111)"
NOTE_MASKED = "VIP 고객: 재무팀 환불 승인 완료 (카드 ****-****-****-1111)"
NOTE_BY_LEAD = "社内メモ：返金は本日中に処理"
REPLY_BY_B = "담당자가 변경되었습니다. 확인해 드릴게요."


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, (display_name, role) in PEOPLE.items():
        add_agent(
            live_stack.settings, username, PASSWORD, "--display-name", display_name, "--role", role
        )
    return {username: PASSWORD for username in PEOPLE}


@pytest.fixture()
def three_contexts(browser: Browser) -> Iterator[tuple[Page, Page, Page]]:  # noqa: F811
    """The customer's widget, agent A's console (English), agent B's console (Japanese)."""
    contexts: list[BrowserContext] = [
        browser.new_context(viewport={"width": 390, "height": 800}, locale="ko-KR"),
        browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US"),
        browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP"),
    ]
    widget, console_a, console_b = (context.new_page() for context in contexts)
    yield widget, console_a, console_b
    for context in contexts:
        context.close()


def call(url: str, method: str, path: str, token: str = "", body: Any = None) -> Any:
    """The gateway's JSON API, synchronously (the browser's event loop is on this thread)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_note_follows_the_chat_to_the_next_agent_and_never_reaches_the_customer(
    live_stack: Stack, people: dict[str, str], three_contexts: tuple[Page, Page, Page]
) -> None:
    url = live_stack.settings.gateway_url
    widget, console_a, console_b = three_contexts
    errors: list[str] = []
    for page in three_contexts:
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(console_a, url, "nia", PASSWORD)
    sign_in(console_b, url, "obi", PASSWORD)  # online: a chat may be given to B
    widget.goto(f"{url}/?lang=ko")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", QUESTION)
    expect(widget.locator("#messages .msg-bot").first).to_be_visible(timeout=20_000)
    send(widget, "#input", "#send", ASK_PERSON)
    expect(widget.locator("#status")).to_be_visible(timeout=20_000)
    conversation_id = widget.evaluate("window.maruChat.conversationId")

    # A accepts; the Notes panel is there, empty, and set apart from the chat
    item = console_a.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console_a.locator("#transcript")).to_contain_text(ASK_PERSON, timeout=10_000)
    panel = console_a.locator("#notes-panel")
    expect(panel).to_be_visible()
    expect(console_a.locator("#notes-title")).to_have_text("Notes")
    expect(console_a.locator("#note-add")).to_have_text("Add note")
    assert console_a.locator("#notes .note").count() == 0
    background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
    chat = console_a.locator("#transcript-scroll").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(255, 248, 197)" and background != chat  # yellow, not the chat's

    # A adds a note: it shows in the panel (masked as stored), not in the chat
    console_a.fill("#note-text", NOTE_BY_A)
    console_a.click("#note-add")
    note = console_a.locator("#notes .note")
    expect(note).to_have_count(1, timeout=10_000)
    expect(note.locator(".note-text")).to_have_text(NOTE_MASKED)
    expect(note.locator(".note-author")).to_have_text("nia")
    expect(console_a.locator("#note-text")).to_have_value("")
    assert "VIP" not in console_a.locator("#transcript").inner_text()

    # the supervisor moves the chat to B: B's console opens it with A's note, in Japanese
    lead = call(url, "POST", "/api/agent/login", body={"username": "sage", "password": PASSWORD})
    moved = call(
        url,
        "POST",
        f"/api/agent/conversations/{conversation_id}/reassign",
        lead["token"],
        {"agent": "obi"},
    )
    assert (moved["agent"], moved["from_agent"]) == ("obi", "nia")
    wait_until(console_b, f"window.maruAgent.selected === '{conversation_id}'")
    expect(console_b.locator("#notes .note .note-text")).to_have_text([NOTE_MASKED], timeout=10_000)
    expect(console_b.locator("#notes-title")).to_have_text("社内メモ")
    expect(console_b.locator("#note-add")).to_have_text("メモを追加")

    # the supervisor adds one: B's open console gets it live (the agent websocket)
    call(
        url,
        "POST",
        f"/api/agent/conversations/{conversation_id}/notes",
        lead["token"],
        {"text": NOTE_BY_LEAD},
    )
    expect(console_b.locator("#notes .note .note-text")).to_have_text(
        [NOTE_MASKED, NOTE_BY_LEAD], timeout=10_000
    )
    expect(console_b.locator("#notes .note .note-author").last).to_have_text("sage")

    # B writes to the customer: that reaches the widget; the notes, before it, never did
    send(console_b, "#composer", "#send", REPLY_BY_B)
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(REPLY_BY_B, timeout=10_000)
    shown = widget.evaluate("document.documentElement.outerHTML + document.body.innerText")
    for text in (NOTE_BY_A, NOTE_MASKED, NOTE_BY_LEAD, "VIP", "社内メモ", "4111"):
        assert text not in shown, text
    # a reload reads the transcript again from the server: still nothing of them
    widget.reload()
    wait_until(widget, CONNECTED)
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(REPLY_BY_B, timeout=10_000)
    shown = widget.evaluate("document.documentElement.outerHTML + document.body.innerText")
    for text in (NOTE_MASKED, NOTE_BY_LEAD, "VIP"):
        assert text not in shown, text

    console_b.once("dialog", lambda dialog: dialog.accept())
    console_b.click("#resolve")
    expect(console_b.locator("#notice")).not_to_be_empty(timeout=10_000)
    assert errors == []
