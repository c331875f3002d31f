"""Offline tickets worked in real headless Chromium, in ko, ja and en: a customer leaves a
ticket in the widget while nobody is online; agent A (one browser context) claims it and
agent B (another) sees it claimed by A; A answers and closes it; the customer's widget
(a third context) gets the answer live and, reloaded, still shows it. The console passes
axe-core with the ticket claimed and its reply box open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from handoff.customer.texts import load_texts
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.axe import assert_accessible
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_console_language_browser import BROWSER_LOCALES
from tests.e2e.test_handoff_browser import send, sign_in
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "ticket-browser-password-3"
AMY, BEN = "tamy", "tben"
TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
ASK_PERSON = {"ko": "상담원 연결해 주세요", "ja": "人と話したい", "en": "talk to a human"}
CONTACT = {
    "ko": "교환 문의예요. 메일은 hana.desk@example.com 이에요",
    "ja": "交換の件です。連絡先は yui.desk@example.jp です",
    "en": "about an exchange, mail me at lee.desk@example.com",
}
ANSWER = {
    "ko": "교환 신청을 접수했어요. 내일 택배 기사님이 방문합니다.",
    "ja": "交換を承りました。明日、配送業者が伺います。",
    "en": "Your exchange is booked; the courier comes tomorrow.",
}


@pytest.fixture()
def own_gateway(live_stack: Stack, tmp_path: Path) -> Iterator[str]:
    """A gateway of each test's own: nobody has signed in to it yet, so a customer who
    asks for a person finds nobody and leaves a ticket."""
    agents = [(AMY, PASSWORD), (BEN, PASSWORD)]
    with gateway_beside(live_stack.settings, tmp_path, "tickets-browser", agents=agents) as url:
        yield url


@pytest.fixture()
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:  # noqa: F811
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def strings(page: Page, language: str) -> dict[str, str]:
    table: dict[str, str] = page.evaluate(f"window.maruConsoleI18n.STRINGS['{language}']")
    return table


def ticket_text(text: str, number: str) -> str:
    return text.replace("{number}", number)


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_two_agents_work_a_ticket_and_the_customer_reads_the_answer(
    own_gateway: str,
    browser: Browser,  # noqa: F811
    contexts: list[BrowserContext],
    language: str,
) -> None:
    url = own_gateway
    locale = BROWSER_LOCALES[language]
    for viewport in ({"width": 390, "height": 800}, *[{"width": 1280, "height": 900}] * 2):
        contexts.append(browser.new_context(locale=locale, viewport=viewport))
    widget, console_a, console_b = (context.new_page() for context in contexts)
    errors: list[str] = []
    for page in (widget, console_a, console_b):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # the customer asks for a person while nobody is online, and leaves a message
    widget.goto(f"{url}/?lang={language}")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", ASK_PERSON[language])
    expect(widget.locator("#messages .msg-system").first).to_be_visible(timeout=20_000)
    send(widget, "#input", "#send", CONTACT[language])
    expect(widget.locator("#messages .msg-system").last).to_contain_text("#", timeout=20_000)

    # A and B sign in; A claims the ticket from the open list
    sign_in(console_a, url, AMY, PASSWORD)
    sign_in(console_b, url, BEN, PASSWORD)
    table = strings(console_a, language)
    ticket_a = console_a.locator("#tickets .ticket")
    expect(ticket_a).to_have_count(1, timeout=10_000)
    expect(ticket_a).to_contain_text(CONTACT[language])
    number = ticket_a.get_attribute("data-ticket-id") or ""
    assert number.isdigit()
    claim = ticket_a.locator(f"button[data-focus-key='{number}:claim']")
    expect(claim).to_have_text(table["tickets.claim"])
    claim.click()
    status_a = console_a.locator("#tickets-status")
    expect(status_a).to_have_text(ticket_text(table["tickets.done_claim"], number), timeout=10_000)
    assert status_a.get_attribute("role") == "status"
    expect(console_a.locator("#tickets-view")).to_have_value("mine")
    expect(ticket_a).to_have_attribute("data-state", "claimed", timeout=10_000)

    # B's open list loses it at once (the websocket); in "all" it is claimed by A
    expect(console_b.locator("#tickets .ticket")).to_have_count(0, timeout=10_000)
    console_b.select_option("#tickets-view", "all")
    ticket_b = console_b.locator(f"#tickets .ticket[data-ticket-id='{number}']")
    expect(ticket_b).to_have_attribute("data-state", "claimed", timeout=10_000)
    expect(ticket_b.locator(".ticket-claimed")).to_have_text(
        table["tickets.claimed_by"].replace("{name}", AMY)
    )
    expect(ticket_b.locator(".state-tag")).to_have_text(table["ticket.claimed"])
    assert ticket_b.locator("button[data-focus-key$=':claim'], textarea").count() == 0

    # the console with a claimed ticket and its reply box: no serious accessibility fault
    reply_box = console_a.locator(f"#ticket-reply-{number}")
    expect(reply_box).to_be_visible()
    label = console_a.locator(f"label[for='ticket-reply-{number}']")
    expect(label).to_have_text(ticket_text(table["tickets.reply_label"], number))
    assert_accessible(console_a, f"the console with a claimed ticket ({language})")

    # A opens the conversation read-only (the search's dialog), then answers
    ticket_a.locator("button.button-quiet").click()
    dialog = console_a.locator("#search-transcript")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text(CONTACT[language])
    console_a.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    reply_box.fill(ANSWER[language])
    console_a.locator(f"button[data-focus-key='{number}:send']").click()
    expect(status_a).to_have_text(ticket_text(table["tickets.done_reply"], number), timeout=10_000)
    expect(ticket_a).to_have_attribute("data-state", "answered", timeout=10_000)
    expect(ticket_b).to_have_attribute("data-state", "answered", timeout=10_000)

    # the customer, still on the page, gets it live: the line in their language, the answer
    notice = TEXTS.say("ticket_answered", language, ticket=int(number))
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(
        ANSWER[language], timeout=10_000
    )
    expect(widget.locator("#messages .msg-system", has_text=notice)).to_have_count(1)

    # A closes it: gone from A's own list, closed in B's
    ticket_a.locator(f"button[data-focus-key='{number}:close']").click()
    expect(status_a).to_have_text(ticket_text(table["tickets.done_close"], number), timeout=10_000)
    expect(console_a.locator("#tickets .ticket")).to_have_count(0, timeout=10_000)
    expect(ticket_b).to_have_attribute("data-state", "closed", timeout=10_000)
    expect(ticket_b.locator(".state-tag")).to_have_text(table["ticket.closed"])

    # the customer comes back (a reload reads the saved conversation): the answer is there
    widget.reload()
    wait_until(widget, CONNECTED)
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(
        ANSWER[language], timeout=10_000
    )
    expect(widget.locator("#messages .msg-system", has_text=notice)).to_have_count(1)
    assert errors == []
