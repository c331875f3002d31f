"""Accessibility in real headless Chromium, against the real stack: axe-core finds no serious
or critical fault on the customer widget, the agent console or the supervisor page (analytics,
the live "Now" view and the unanswered topics), in Korean, Japanese and English, in each
state a person sees (signed out, waiting customers listed, a chat open); and a customer can
chat with the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.axe import assert_accessible, serious_violations
from tests.e2e.conftest import AGENT_PASSWORD
from tests.e2e.test_analytics import supervisor  # noqa: F401 - fixture
from tests.e2e.test_console_language_browser import (
    BROWSER_LOCALES,
    LANGUAGES,
    console_in,  # noqa: F401 - fixture
    queue_customer,
)
from tests.e2e.test_handoff_browser import SHIPPING, sign_in
from tests.e2e.test_supervisor_language_browser import (
    _api,
    _take_and_resolve,
    page_in,  # noqa: F401 - fixture
    report_traffic,  # noqa: F401 - fixture
    sign_in_as_supervisor,
    unanswered,  # noqa: F401 - fixture
)
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OpenPage = Callable[[str], Page]  # a page in a browser context of that language
OpenWidget = Callable[[str, str], Page]  # the widget, in that language, at that gateway

# The element that has the keyboard focus, as "tag#id.class" (enough to tell them apart).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
}"""
# Whether the focused element shows it: an outline or a ring (box-shadow) drawn by the page.
FOCUS_SHOWN = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== 'none';
}"""


@pytest.fixture()
def widget_in(browser: Browser) -> Iterator[OpenWidget]:  # noqa: F811
    """Opens the widget in a phone-sized context whose browser language is the one asked."""
    contexts: list[BrowserContext] = []

    def open_widget(lang: str, url: str) -> Page:
        context = browser.new_context(
            locale=BROWSER_LOCALES[lang], viewport={"width": 390, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{url}/")
        wait_until(page, CONNECTED)
        return page

    yield open_widget
    for context in contexts:
        context.close()


def press_until_focused(page: Page, key: str, selector: str, presses: int = 12) -> None:
    """Press `key` until the focus is on an element matching `selector` (a keyboard user's
    Tab walk); fails if it never gets there."""
    for _ in range(presses):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{key} never reached {selector}; stopped on {page.evaluate(FOCUSED)}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_widget_has_no_serious_accessibility_fault(
    live_stack: Stack, widget_in: OpenWidget, lang: str
) -> None:
    page: Page = widget_in(lang, live_stack.settings.gateway_url)
    assert page.evaluate("document.documentElement.lang") == lang
    assert_accessible(page, f"the widget, opened ({lang})")

    page.fill("#input", SHIPPING[lang])
    page.press("#input", "Enter")
    expect(page.locator("#messages .msg-bot")).to_have_count(2, timeout=20_000)
    expect(page.locator("button.choice")).to_have_count(2)  # "did that help?"
    # new messages are announced: the list is a polite live log
    log = page.locator("#messages")
    assert (log.get_attribute("role"), log.get_attribute("aria-live")) == ("log", "polite")
    assert_accessible(page, f"the widget, after an answer ({lang})")

    # a chosen answer (disabled buttons, the chosen one filled) and the next reply
    page.locator("button.choice").first.click()
    expect(page.locator("#messages .msg-bot")).to_have_count(3, timeout=20_000)
    assert_accessible(page, f"the widget, after a choice ({lang})")


def test_a_customer_chats_with_the_keyboard_alone(live_stack: Stack, widget_in: OpenWidget) -> None:
    page: Page = widget_in("en", live_stack.settings.gateway_url)
    # opened: Tab from the top of the page reaches the message box, which shows its focus
    press_until_focused(page, "Tab", "#input")
    assert page.evaluate(FOCUS_SHOWN)
    page.keyboard.type(SHIPPING["en"])
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg-customer").first).to_contain_text(SHIPPING["en"])
    expect(page.locator("#messages .msg-bot")).to_have_count(2, timeout=20_000)
    expect(page.locator("#input")).to_be_focused()  # ready for the next message
    expect(page.locator("#input")).to_have_value("")

    # the Send button is reachable and works from the keyboard too
    page.keyboard.type("hello")
    press_until_focused(page, "Tab", "#send")
    assert page.evaluate(FOCUS_SHOWN)
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg-customer")).to_have_count(2)
    expect(page.locator("#messages .msg-customer").last).to_contain_text("hello")
    expect(page.locator("#messages .msg-bot")).to_have_count(3, timeout=20_000)

    # a button reply: back from the message box to the offered choices, then Space picks one
    press_until_focused(page, "Shift+Tab", "button.choice:not(:disabled)", presses=20)
    assert page.evaluate(FOCUS_SHOWN)
    chosen = page.evaluate("document.activeElement.textContent")
    bot_messages = page.locator("#messages .msg-bot").count()
    page.keyboard.press("Space")
    expect(page.locator("#messages .msg-customer").last).to_contain_text(chosen)
    expect(page.locator("button.choice.chosen")).to_have_text(chosen)
    expect(page.locator("#messages .msg-bot")).to_have_count(bot_messages + 1, timeout=20_000)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_agent_console_has_no_serious_accessibility_fault(
    live_stack: Stack,
    agents: dict[str, str],
    console_in: OpenPage,  # noqa: F811
    lang: str,
) -> None:
    url = live_stack.settings.gateway_url
    console: Page = console_in(lang)
    console.goto(f"{url}/agent")
    assert console.evaluate("document.documentElement.lang") == lang
    assert_accessible(console, f"the console's sign-in ({lang})")

    sign_in(console, url, "alice", agents["alice"])
    conversation_id = queue_customer(url, lang)
    accepted = False
    try:
        item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
        expect(item).to_be_visible(timeout=20_000)
        assert_accessible(console, f"the console with a waiting chat ({lang})")

        # a chat open: transcript, context, suggestions and a private note all shown
        item.locator("button.accept").click()
        accepted = True
        expect(console.locator("#context-attempts .decision").first).to_be_visible(timeout=10_000)
        expect(console.locator("#suggestions li").first).to_be_visible(timeout=15_000)
        # loaded: a list being refreshed is dimmed on purpose
        expect(console.locator("#suggestions")).not_to_have_attribute("aria-busy", "true")
        console.fill("#note-text", "accessibility check")
        console.click("#note-add")
        expect(console.locator("#notes .note")).to_have_count(1, timeout=10_000)
        transcript = console.locator("#transcript")
        assert (transcript.get_attribute("role"), transcript.get_attribute("aria-live")) == (
            "log",
            "polite",
        )
        assert console.evaluate("document.documentElement.lang") == lang
        assert_accessible(console, f"the console with a chat open ({lang})")
    finally:
        if accepted:  # leave no chat open for the next test
            token = _api(url, "/api/agent/login", {"username": "alice", "password": AGENT_PASSWORD})
            _api(url, f"/api/agent/conversations/{conversation_id}/resolve", {}, token["token"])
        else:
            _take_and_resolve(url, conversation_id)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_supervisor_page_has_no_serious_accessibility_fault(
    live_stack: Stack,
    supervisor: str,  # noqa: F811
    report_traffic: str,  # noqa: F811
    unanswered: None,  # noqa: F811
    page_in: OpenPage,  # noqa: F811
    lang: str,
) -> None:
    url = live_stack.settings.gateway_url
    conversation_id = queue_customer(url, lang)  # a row in the live view, with its Reassign
    page: Page = page_in(lang)
    try:
        page.goto(f"{url}/agent/analytics")
        assert page.evaluate("document.documentElement.lang") == lang
        assert_accessible(page, f"the supervisor sign-in ({lang})")
        sign_in_as_supervisor(page, supervisor)
        expect(
            page.locator(f"#live-chats tr[data-conversation-id='{conversation_id}']")
        ).to_be_visible(timeout=20_000)
        assert page.locator("#topics-table tbody tr").count() > 0
        assert page.evaluate("document.documentElement.lang") == lang
        assert_accessible(page, f"the supervisor page ({lang})")
    finally:
        _take_and_resolve(url, conversation_id)


def test_the_check_finds_a_fault_when_there_is_one(
    live_stack: Stack, widget_in: OpenWidget
) -> None:
    """The helper is not blind: a button with no name and grey-on-white text are reported,
    with where they are."""
    page: Page = widget_in("en", live_stack.settings.gateway_url)
    page.evaluate(
        """() => {
          const button = document.createElement('button');
          button.id = 'nameless';
          document.querySelector('.chat-header').append(button);
          const faint = document.createElement('p');
          faint.id = 'faint';
          faint.textContent = 'hard to read';
          faint.style.color = '#cccccc';
          faint.style.background = '#ffffff';
          document.querySelector('#messages').append(faint);
        }"""
    )
    found = {violation.rule: violation for violation in serious_violations(page)}
    assert set(found) >= {"button-name", "color-contrast"}, found
    assert found["button-name"].targets == ("#nameless",)
    assert found["color-contrast"].targets == ("#faint",)
    assert "contrast" in str(found["color-contrast"])
