"""The widget on a host site from one <script> tag (issue 14 item 9), in real headless
Chromium: a host page on another origin, with CSS that would wreck any widget it could
reach, loads /static/embed.js from a gateway that lists that origin in
widget_frame_origins; a customer chats in ko, ja and en in the host's colours, on the
chosen side, and closes the chat from inside it. A gateway that does not list the host
shows it no chat at all."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from stack.launcher import Stack
from tests.e2e.axe import serious_violations
from tests.e2e.host_page import shop_site
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Everything a careless or hostile host stylesheet does to whatever it can reach.
HOSTILE_CSS = """
* { color: #f0f !important; font-size: 40px !important; font-family: serif !important; }
button, [role=button] { display: none !important; }
iframe { width: 1px !important; height: 1px !important; visibility: hidden !important; }
maru-support { display: none !important; position: static !important; }
div { border: 9px solid lime !important; }
"""

QUESTION = {"ko": "배송 얼마나 걸려요?", "ja": "送料いくら", "en": "how long does shipping take"}
OPEN_LABEL = {
    "ko": "고객센터 채팅 열기",
    "ja": "サポートチャットを開く",
    "en": "Open the support chat",
}
CASES = [  # language, the host's colour as rgb() reads it, side
    ("ko", "#aa3300", "rgb(170, 51, 0)", "right"),
    ("ja", "#0b7a4b", "rgb(11, 122, 75)", "left"),
    ("en", "#5522aa", "rgb(85, 34, 170)", "right"),
]


# The embed tag's attributes, from the host page's query: query key -> data-NAME.
ATTRIBUTES = {"lang": "language", "color": "color", "position": "position"}


@pytest.fixture(scope="module")
def host_site() -> Iterator[str]:
    """A host site on an origin of its own, whose stylesheet would wreck any widget."""
    with shop_site(ATTRIBUTES, HOSTILE_CSS) as origin:
        yield origin


@pytest.fixture(scope="module")
def framing_gateway(
    live_stack: Stack, host_site: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A gateway whose widget page the host site may frame."""
    state = tmp_path_factory.mktemp("embed-gateway")
    with gateway_beside(
        live_stack.settings, state, "embed-gateway", widget_frame_origins=host_site
    ) as url:
        yield url


@pytest.fixture()
def host_page(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the shared fixture
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    yield context.new_page()
    context.close()


def _host_url(host: str, gateway: str, **options: str) -> str:
    return f"{host}/?{urlencode({'gateway': gateway, **options})}"


@pytest.mark.parametrize(("language", "colour", "rgb", "side"), CASES)
def test_one_script_tag_puts_a_chat_on_a_host_page_its_css_cannot_touch(
    host_page: Page,
    host_site: str,
    framing_gateway: str,
    language: str,
    colour: str,
    rgb: str,
    side: str,
) -> None:
    page = host_page
    page.goto(_host_url(host_site, framing_gateway, lang=language, color=colour, position=side))
    launcher = page.locator("maru-support .launcher")
    expect(launcher).to_be_visible(timeout=15_000)
    expect(launcher).to_have_attribute("aria-label", OPEN_LABEL[language])
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == rgb
    box = launcher.bounding_box()
    assert box is not None
    assert (box["x"] < 600) == (side == "left"), box

    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame_element = page.locator("maru-support iframe")
    expect(frame_element).to_be_visible()
    frame_box = frame_element.bounding_box()
    assert frame_box is not None and frame_box["width"] >= 300 and frame_box["height"] >= 400

    chat = page.frame_locator("maru-support iframe")
    expect(chat.locator("#title")).to_be_visible(timeout=15_000)
    # The chat's own styles, not the host's: its colour, its font size, its buttons.
    header = chat.locator(".chat-header")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == rgb
    assert chat.locator("#send").evaluate("el => getComputedStyle(el).display") != "none"
    assert chat.locator("#input").evaluate("el => parseFloat(getComputedStyle(el).fontSize)") < 30
    expect(chat.locator("html")).to_have_attribute("lang", language)

    chat.locator("#input").fill(QUESTION[language])
    chat.locator("#input").press("Enter")
    expect(chat.locator("#messages .msg-bot").first).to_be_visible(timeout=60_000)

    assert serious_violations(page) == []

    close = chat.locator("#close-embed")
    expect(close).to_be_visible()
    close.click()
    expect(frame_element).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    wait_until(page, "document.querySelector('maru-support').shadowRoot.activeElement !== null")

    # Open again: the same conversation, not a new one.
    launcher.click()
    expect(chat.locator("#messages .msg-customer").first).to_contain_text(QUESTION[language])


def test_escape_closes_the_popular_questions_then_the_chat(
    host_page: Page, host_site: str, framing_gateway: str
) -> None:
    page = host_page
    page.goto(_host_url(host_site, framing_gateway, lang="ja"))
    page.locator("maru-support .launcher").click()
    chat = page.frame_locator("maru-support iframe")
    frame_element = page.locator("maru-support iframe")
    # The first Escape closes the popular questions the chat offers on open, not the chat.
    expect(chat.locator("#suggest")).to_be_visible(timeout=15_000)
    chat.locator("#input").press("Escape")
    expect(chat.locator("#suggest")).to_be_hidden()
    expect(frame_element).to_be_visible()
    chat.locator("#input").press("Escape")
    expect(frame_element).to_be_hidden()


def test_a_gateway_that_does_not_list_the_host_shows_it_no_chat(
    host_page: Page, host_site: str, gateway_url: str
) -> None:
    """The shared stack's gateway lists no frame origins: the browser refuses to show
    its widget page inside the host's (CSP frame-ancestors), so no conversation starts."""
    page = host_page
    page.goto(_host_url(host_site, gateway_url, lang="en"))
    page.locator("maru-support .launcher").click()
    frame_element = page.locator("maru-support iframe")
    expect(frame_element).to_be_attached()
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    for _ in range(100):  # up to 10 s: the browser's error page, or the widget running
        if frame.url.startswith("chrome-error:"):
            break
        with contextlib.suppress(PlaywrightError):  # between documents
            assert frame.evaluate("typeof window.maruChat") != "object", (
                "the widget ran inside a host the gateway does not list"
            )
        page.wait_for_timeout(100)
    assert frame.url.startswith("chrome-error:"), frame.url
