"""A transfer in real headless Chromium, for a ko, ja and en customer: agent A accepts the
chat in their console, opens the Transfer dialog (labelled in the console's language,
focus inside, Escape closes it), picks colleague B and types a reason; B's console, in
another browser context, opens the chat with "Transferred from A: <reason>" in its
transcript; the customer's widget, in a third, shows the polite line in their language
and never the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_handoff_browser import send, sign_in
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "transfer-browser-password-3"
# Agents of this module only: username -> display name (what the customer is told).
PEOPLE = {"wes": "Wes", "xia": "Xia"}
LOCALES = {"ko": "ko-KR", "ja": "ja-JP", "en": "en-US"}
# The console's words (console_i18n.js) and the customer's (data/gateway_texts.yml).
LABELS = {
    "ko": {
        "open": "전달",
        "title": "상담 전달",
        "submit": "전달하기",
        "line": "wes님이 전달함: {reason}",
        "done": "Xia에게 전달했습니다.",
        "customer": "상담원 Xia님이 이어서 도와드릴게요",
    },
    "ja": {
        "open": "転送",
        "title": "この会話を転送",
        "submit": "転送する",
        "line": "wesから転送: {reason}",
        "done": "Xiaに転送しました。",
        "customer": "ここからは担当者のXiaが対応します",
    },
    "en": {
        "open": "Transfer",
        "title": "Transfer this conversation",
        "submit": "Transfer",
        "line": "Transferred from wes: {reason}",
        "done": "Transferred to Xia.",
        "customer": "Xia from our team is taking over",
    },
}
REASONS = {
    "ko": "환불 한도 초과: 재무 확인 필요",
    "ja": "返金限度額を超えています：経理の確認が必要",
    "en": "refund above my limit: needs finance",
}
REPLY_BY_B = {
    "ko": "제가 이어서 확인할게요",
    "ja": "引き継いで確認します",
    "en": "I'll take it from here",
}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for username, display_name in PEOPLE.items():
        add_agent(live_stack.settings, username, PASSWORD, "--display-name", display_name)
    return {username: PASSWORD for username in PEOPLE}


@pytest.fixture(params=[flow[0] for flow in FLOWS])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def three_pages(browser: Browser, language: str) -> Iterator[tuple[Page, Page, Page]]:  # noqa: F811
    """The customer's widget, agent A's console and agent B's console, each in its own
    browser context, all three in `language`."""
    locale = LOCALES[language]
    contexts: list[BrowserContext] = [
        browser.new_context(viewport={"width": 390, "height": 800}, locale=locale),
        browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale),
        browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale),
    ]
    widget, console_a, console_b = (context.new_page() for context in contexts)
    yield widget, console_a, console_b
    for context in contexts:
        context.close()


def test_an_agent_transfers_a_chat_to_a_colleague_in_the_console(
    live_stack: Stack,
    people: dict[str, str],
    three_pages: tuple[Page, Page, Page],
    language: str,
) -> None:
    url = live_stack.settings.gateway_url
    widget, console_a, console_b = three_pages
    labels, reason = LABELS[language], REASONS[language]
    _, question, ask_person, _, _ = next(flow for flow in FLOWS if flow[0] == language)
    errors: list[str] = []
    for page in three_pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(console_a, url, "wes", PASSWORD)
    sign_in(console_b, url, "xia", PASSWORD)  # online: a colleague who can take it
    widget.goto(f"{url}/?lang={language}")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", question)
    # the first answer of a fresh stack on a busy machine may take a while
    expect(widget.locator("#messages .msg-bot").first).to_be_visible(timeout=60_000)
    send(widget, "#input", "#send", ask_person)
    expect(widget.locator("#status")).to_be_visible(timeout=60_000)
    conversation_id = widget.evaluate("window.maruChat.conversationId")

    # A accepts
    item = console_a.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console_a.locator("#transcript")).to_contain_text(ask_person, timeout=10_000)

    # the dialog: labelled in the console's language, focus inside, Escape closes it
    opener = console_a.locator("#transfer-open")
    expect(opener).to_have_text(labels["open"])
    opener.click()
    dialog = console_a.locator("#transfer")
    expect(dialog).to_be_visible()
    expect(console_a.locator("#transfer-title")).to_have_text(labels["title"])
    assert console_a.evaluate("document.activeElement.id") == "transfer-target"
    expect(console_a.locator("#transfer-target option[value='agent:xia']")).to_have_count(
        1, timeout=10_000
    )
    assert console_a.locator("#transfer-target option[value='agent:wes']").count() == 0
    console_a.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert console_a.evaluate("document.activeElement.id") == "transfer-open"

    # A transfers to B with a reason
    opener.click()
    expect(console_a.locator("#transfer-target option[value='agent:xia']")).to_have_count(
        1, timeout=10_000
    )
    console_a.select_option("#transfer-target", "agent:xia")
    console_a.fill("#transfer-reason", reason)
    expect(console_a.locator("#transfer-submit")).to_have_text(labels["submit"])
    console_a.click("#transfer-submit")
    expect(dialog).to_be_hidden(timeout=10_000)
    expect(console_a.locator("#notice")).to_have_text(labels["done"], timeout=10_000)
    expect(opener).to_be_disabled()
    expect(console_a.locator("#composer")).to_be_disabled()

    # B's console opens the chat: the whole transcript and the transfer with its reason
    wait_until(console_b, f"window.maruAgent.selected === '{conversation_id}'")
    expect(console_b.locator("#transcript")).to_contain_text(question, timeout=10_000)
    line = console_b.locator("#transcript .msg-transfer")
    expect(line).to_have_count(1, timeout=10_000)
    expect(line.locator(".bubble")).to_have_text(labels["line"].format(reason=reason))
    expect(console_b.locator("#notice")).to_contain_text(reason)

    # the customer: the polite line in their language, never the reason
    expect(widget.locator("#messages")).to_contain_text(labels["customer"], timeout=10_000)
    send(console_b, "#composer", "#send", REPLY_BY_B[language])
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(
        REPLY_BY_B[language], timeout=10_000
    )
    shown = widget.evaluate("document.documentElement.outerHTML + document.body.innerText")
    assert reason not in shown

    console_b.once("dialog", lambda d: d.accept())
    console_b.click("#resolve")
    expect(console_b.locator("#notice")).not_to_be_empty(timeout=10_000)
    assert errors == []
