"""Search in the agent console, in real headless Chromium, with the console in Korean,
Japanese and English: customers write a Japanese, a Korean and an English sentence; the
agent searches a phrase from the middle of each (Japanese without spaces, a two-syllable
Korean word with its particle), gets that conversation alone, with the phrase marked, and
opens its transcript read-only (no reply box), at the message that matched. Then two
agents in two browser contexts: what one agent and her Japanese and Korean customers write
in a live chat, a colleague finds from her own console, in her own language.

A gateway of this module's own (its own database): the results are this module's
conversations only, whatever other tests wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from stack.launcher import Stack
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_console_language_browser import BROWSER_LOCALES, strings
from tests.e2e.test_handoff_browser import FLOWS, send, sign_in
from tests.e2e.test_notes_browser import call
from tests.e2e.test_search import customer_says
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AGENT = "sora"
COLLEAGUE = "hana"
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
        live_stack.settings,
        state,
        "search-browser-gateway",
        agents=[(AGENT, PASSWORD), (COLLEAGUE, PASSWORD)],
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


# language -> (the customer's line in the live chat, the agent's reply, what the colleague
# searches for in each: from the middle, no spaces in Japanese, a Korean word with its
# particle). None of it is in the first test's conversations, nor "환불" in either.
LIVE = {
    "ja": (
        "赤い傘の色を変えたいんですけど",
        "新しい傘は明日の午前に発送します",
        "色を変え",
        "傘は明日",
    ),
    "ko": (
        "노란 우산 색상 바꿀 수 있나요",
        "새 우산은 내일 오전에 보내 드릴게요",
        "색상",
        "우산은",
    ),
}


def start_live_chat(url: str, language: str) -> tuple[str, str]:
    """A customer who asks for a person at once: (conversation id, customer token)."""
    [ask_person] = [flow[2] for flow in FLOWS if flow[0] == language]
    started = call(url, "POST", "/api/conversations", body={"language": language})
    conversation_id, token = str(started["conversation_id"]), str(started["token"])
    path = f"/api/conversations/{conversation_id}/messages"
    call(url, "POST", path, token, {"text": ask_person})
    return conversation_id, token


def test_a_colleague_finds_a_live_chat_by_what_the_agent_and_customer_wrote(
    search_console_gateway: str,
    console_context: list[BrowserContext],
    browser: Browser,  # noqa: F811
) -> None:
    """Agent A (console in Japanese) takes a Japanese and a Korean chat and answers each;
    the customers write again. Agent B (another browser context, console in Korean)
    searches a phrase of A's reply and one of the customer's new line: each finds that
    chat alone, with A on it, and opens it read-only with the line that matched."""
    url = search_console_gateway
    pages: list[Any] = []
    for locale in (BROWSER_LOCALES["ja"], BROWSER_LOCALES["ko"]):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        console_context.append(context)
        pages.append(context.new_page())
    first, second = pages
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(first, url, AGENT, PASSWORD)
    sign_in(second, url, COLLEAGUE, PASSWORD)

    chats: dict[str, str] = {}
    for language, (customer_line, reply, _, _) in LIVE.items():
        conversation_id, token = start_live_chat(url, language)
        chats[language] = conversation_id
        row = first.locator(f".queue-item[data-conversation-id='{conversation_id}']")
        expect(row).to_be_visible(timeout=20_000)
        row.locator("button.accept").click()
        expect(first.locator("#conversation-state")).to_have_text(
            strings(first)["ja"]["state.assigned"], timeout=10_000
        )
        send(first, "#composer", "#send", reply)
        expect(first.locator("#transcript .msg-agent .bubble").last).to_have_text(reply)
        path = f"/api/conversations/{conversation_id}/messages"
        call(url, "POST", path, token, {"text": customer_line})
        expect(first.locator("#transcript .msg-customer .bubble").last).to_have_text(
            customer_line, timeout=10_000
        )

    words = strings(second)["ko"]
    status = second.locator("#search-status")
    results = second.locator("#search-results > li")
    dialog = second.locator("#search-transcript")
    for language, (customer_line, reply, customer_phrase, agent_phrase) in LIVE.items():
        for phrase, line, role in (
            (agent_phrase, reply, "agent"),
            (customer_phrase, customer_line, "customer"),
        ):
            second.fill("#search-text", phrase)
            second.press("#search-text", "Enter")
            expect(status).to_have_text(words["search.count"].replace("{n}", "1"))
            hit = results.first
            assert hit.get_attribute("data-conversation-id") == chats[language]
            expect(hit.locator(".state-tag")).to_have_text(words["search.state_assigned"])
            expect(hit.locator("mark")).to_have_text(phrase)
            expect(hit.locator(".snippet")).to_have_attribute("lang", language)
            hit.locator("button").click()
            expect(dialog).to_be_visible()
            body = second.locator("#search-transcript-body")
            expect(body).to_have_attribute("data-conversation-id", chats[language])
            match = body.locator(".search-match")
            expect(match).to_have_class(re.compile(rf"\bmsg-{role}\b"))
            expect(match.locator(".bubble")).to_have_text(line)
            # B only reads: A's chat is not put in B's hands by a search
            assert dialog.locator("textarea, input, #send, #resolve").count() == 0
            second.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
        mine = second.locator(f"#my-conversations [data-conversation-id='{chats[language]}']")
        expect(mine).to_have_count(0)
    assert not errors, errors
