"""Search in the agent console, in real headless Chromium, with the console in Korean,
Japanese and English: customers write a Japanese, a Korean and an English sentence; the
agent searches a phrase from the middle of each (Japanese without spaces, a two-syllable
Korean word with its particle), gets that conversation alone, with the phrase marked, and
opens its transcript read-only (no reply box), at the message that matched.

A gateway of this module's own (its own database): the results are this module's
conversations only, whatever other tests wrote."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from stack.launcher import Stack
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_console_language_browser import BROWSER_LOCALES, strings
from tests.e2e.test_handoff_browser import sign_in
from tests.e2e.test_search import customer_says
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AGENT = "sora"
PASSWORD = "search-browser-password-4"
# language -> (customer's name, what they write, what the agent searches: from its middle)
SAID = {
    "ja": ("山田 花子", "昨日買った青い靴を返品したいです", "靴を返品した"),
    "ko": ("김민수", "지난주에 산 가방 환불은 언제 되나요", "환불"),
    "en": ("Pat Lee", "The blue kettle arrived with a cracked lid", "KETTLE ARRIVED"),
}


@pytest.fixture(scope="module")
def search_console_gateway(
    live_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    state = tmp_path_factory.mktemp("search-browser-gateway")
    with gateway_beside(
        live_stack.settings, state, "search-browser-gateway", agents=[(AGENT, PASSWORD)]
    ) as url:
        yield url


@pytest.fixture(scope="module")
def conversations(search_console_gateway: str) -> dict[str, str]:
    """language -> the conversation of that language's customer."""
    return {
        lang: customer_says(search_console_gateway, lang, {"name": name}, text)
        for lang, (name, text, _) in SAID.items()
    }


@pytest.fixture()
def console_context(browser: Browser) -> Iterator[list[BrowserContext]]:  # noqa: F811
    contexts: list[BrowserContext] = []
    yield contexts
    for context in contexts:
        context.close()


@pytest.mark.parametrize("console_language", ["ko", "ja", "en"])
def test_search_finds_each_language_and_opens_the_transcript_read_only(
    search_console_gateway: str,
    conversations: dict[str, str],
    console_context: list[BrowserContext],
    browser: Browser,  # noqa: F811
    console_language: str,
) -> None:
    context = browser.new_context(
        locale=BROWSER_LOCALES[console_language], viewport={"width": 1280, "height": 900}
    )
    console_context.append(context)
    console = context.new_page()
    errors: list[str] = []
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(console, search_console_gateway, AGENT, PASSWORD)
    words = strings(console)[console_language]
    # the panel's own words are the console language's (label, button, state choices)
    expect(console.locator("label[for=search-text]")).to_have_text(words["search.label"])
    expect(console.locator("#search-submit")).to_have_text(words["search.submit"])
    expect(console.locator("#search-state option[value=queued]")).to_have_text(
        words["search.state_queued"]
    )
    status = console.locator("#search-status")
    assert status.get_attribute("role") == "status"
    results = console.locator("#search-results > li")
    dialog = console.locator("#search-transcript")

    for lang, (name, sentence, phrase) in SAID.items():
        console.fill("#search-text", phrase)
        console.press("#search-text", "Enter")
        expect(status).to_have_text(words["search.count"].replace("{n}", "1"))
        expect(results).to_have_count(1)
        hit = results.first
        assert hit.get_attribute("data-conversation-id") == conversations[lang]
        expect(hit.locator(".search-name")).to_have_text(name)
        expect(hit.locator("mark")).to_have_text(phrase, ignore_case=True)
        expect(hit.locator(".snippet")).to_have_attribute("lang", lang)
        hit.locator("button").click()
        expect(dialog).to_be_visible()
        expect(console.locator("#search-transcript-title")).to_have_text(
            words["search.transcript_title"]
        )
        body = console.locator("#search-transcript-body")
        expect(body).to_have_attribute("data-conversation-id", conversations[lang])
        customer_lines = body.locator(".msg-customer .bubble")
        expect(customer_lines.first).to_have_text(sentence)
        expect(body.locator(".msg-role").first).to_have_text(words["role.customer"])
        # opened at the match, and read-only: nothing to type into, no send or resolve
        if lang != "ko":  # the bot's answer may hold "환불" too: its newest line may be that
            expect(body.locator(".search-match .bubble")).to_have_text(sentence)
        assert dialog.locator("textarea, input, #send, #resolve").count() == 0
        console.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

    console.fill("#search-text", "存在しない言葉")
    console.press("#search-text", "Enter")
    expect(status).to_have_text(words["search.none"])
    expect(results).to_have_count(0)
    # an empty search asks for something before it asks the server
    console.fill("#search-text", "")
    console.click("#search-submit")
    expect(status).to_have_text(words["search.need_something"])
    # a state alone lists that state's conversations: all three are with the bot
    console.select_option("#search-state", "bot")
    console.click("#search-submit")
    expect(status).to_have_text(words["search.count"].replace("{n}", "3"))
    expect(results.locator(".state-tag").first).to_have_text(words["search.state_bot"])
    assert not errors, errors
