"""One customer across devices (issue 14, item 8), in real headless Chromium: a host
site on another origin embeds the chat with /static/embed.js and the signed identity of
its signed-in customer. On device A (one browser context) the customer asks something;
on device B (another context, nothing shared) the chat lists that conversation under
"Earlier conversations" and opens it read-only. A badly signed identity still gets a
working chat, anonymous, with a console warning naming the reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Frame, Page, expect

from handoff.customer.identity import signed_fields
from stack.launcher import Stack
from tests.e2e.host_page import shop_site
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_widget_browser import browser  # noqa: F401 - shared fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = {"ko": "배송 얼마나 걸려요?", "ja": "送料いくら", "en": "how long does shipping take"}
NAME = {"ko": "김민아", "ja": "山田花子", "en": "Mina Kim"}
EARLIER = {"ko": "이전 대화 (1)", "ja": "以前の会話（1件）", "en": "Earlier conversations (1)"}
BACK = {"ko": "대화로 돌아가기", "ja": "チャットに戻る", "en": "Back to the chat"}
# The embed tag's attributes, from the host page's query (what its back end would print).
ATTRIBUTES = {
    "lang": "language",
    "id": "user-id",
    "email": "user-email",
    "name": "user-name",
    "expires": "identity-expires",
    "signature": "identity-signature",
}


@pytest.fixture(scope="module")
def host_site() -> Iterator[str]:
    with shop_site(ATTRIBUTES) as origin:
        yield origin


@pytest.fixture(scope="module")
def framing_gateway(
    live_stack: Stack, host_site: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A gateway the host may frame; the stack's identity secret is its own."""
    assert live_stack.settings.identity_secret
    state = tmp_path_factory.mktemp("identity-gateway")
    with gateway_beside(
        live_stack.settings, state, "identity-gateway", widget_frame_origins=host_site
    ) as url:
        yield url


def _device(browser: Browser) -> Page:  # noqa: F811 - the shared fixture's name
    return browser.new_context(viewport={"width": 1200, "height": 800}).new_page()


def _host_url(host: str, gateway: str, language: str, signed: dict[str, Any]) -> str:
    query = {"gateway": gateway, "lang": language, **signed["customer"]}
    query.update(expires=str(signed["identity_expires"]), signature=signed["identity_signature"])
    return f"{host}/?{urlencode(query)}"


def _chat_frame(page: Page, gateway: str) -> Frame:
    for _ in range(150):
        for frame in page.frames:
            if frame.url.startswith(gateway):
                return frame
        page.wait_for_timeout(100)
    raise AssertionError("the chat's frame never loaded")


def _ask(page: Page, gateway: str, language: str) -> Frame:
    page.locator("maru-support .launcher").click()
    chat = page.frame_locator("maru-support iframe")
    chat.locator("#input").fill(QUESTION[language])
    chat.locator("#input").press("Enter")
    expect(chat.locator("#messages .msg-bot").first).to_be_visible(timeout=60_000)
    return _chat_frame(page, gateway)


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_device_b_lists_and_opens_the_conversation_from_device_a(
    browser: Browser,  # noqa: F811 - the shared fixture
    live_stack: Stack,
    host_site: str,
    framing_gateway: str,
    language: str,
) -> None:
    secret = live_stack.settings.identity_secret
    customer = {
        "id": f"cust-{uuid.uuid4().hex}",
        "email": f"{uuid.uuid4().hex}@example.com",
        "name": NAME[language],
    }
    device_a, device_b = _device(browser), _device(browser)
    try:
        url = _host_url(host_site, framing_gateway, language, signed_fields(secret, customer, 600))
        device_a.goto(url)
        frame_a = _ask(device_a, framing_gateway, language)
        assert frame_a.evaluate("window.maruChat.verified") is True
        first_id = frame_a.evaluate("window.maruChat.conversationId")
        # The identity went by postMessage: not in the frame's URL.
        assert customer["id"] not in frame_a.url and "signature" not in frame_a.url

        # Device B: another browser, the same customer signed in (signed anew).
        device_b.goto(
            _host_url(host_site, framing_gateway, language, signed_fields(secret, customer, 300))
        )
        device_b.locator("maru-support .launcher").click()
        chat = device_b.frame_locator("maru-support iframe")
        summary = chat.locator("#earlier summary")
        expect(summary).to_have_text(EARLIER[language], timeout=30_000)
        frame_b = _chat_frame(device_b, framing_gateway)
        assert frame_b.evaluate("window.maruChat.conversationId") != first_id
        summary.click()
        item = chat.locator(f"#earlier-list [data-conversation-id='{first_id}']")
        expect(item).to_be_visible()
        item.click()

        # Read-only, in the customer's language: the question and the bot's answer.
        view = chat.locator("#earlier-view")
        expect(view).to_be_visible()
        expect(view.locator(".msg-customer").first).to_contain_text(QUESTION[language])
        expect(view.locator(".msg-bot").first).to_be_visible()
        assert view.locator("button.choice").count() == 0
        expect(chat.locator("#composer")).to_be_hidden()
        back = chat.locator("#earlier-back")
        expect(back).to_have_text(BACK[language])
        back.click()
        expect(view).to_be_hidden()
        expect(chat.locator("#composer")).to_be_visible()
    finally:
        device_a.context.close()
        device_b.context.close()


def test_a_badly_signed_identity_leaves_a_working_anonymous_chat(
    browser: Browser,  # noqa: F811 - the shared fixture
    live_stack: Stack,
    host_site: str,
    framing_gateway: str,
) -> None:
    secret = live_stack.settings.identity_secret
    customer = {"id": f"cust-{uuid.uuid4().hex}", "email": "someone@example.com"}
    # A conversation of this customer exists: a bad signature must not list it.
    good = signed_fields(secret, customer, 600)
    page = _device(browser)
    try:
        page.goto(_host_url(host_site, framing_gateway, "en", good))
        _ask(page, framing_gateway, "en")
    finally:
        page.context.close()

    page = _device(browser)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    try:
        forged = {**good, "identity_signature": "0" * 64}
        page.goto(_host_url(host_site, framing_gateway, "en", forged))
        frame = _ask(page, framing_gateway, "en")
        assert frame.evaluate("window.maruChat.identityRefused") == "invalid_identity_signature"
        assert frame.evaluate("window.maruChat.verified") is False
        assert frame.evaluate("window.maruChat.earlier") == 0
        expect(page.frame_locator("maru-support iframe").locator("#earlier")).to_be_hidden()
        assert any("invalid_identity_signature" in text for text in warnings), warnings
    finally:
        page.context.close()
