"""The widget's notice banner in real headless Chromium, in ko, ja and en: a supervisor's
notice shows on open (role=status, in the widget's language), disappears live when the
supervisor ends it, and a customer who dismisses it does not see it again in the session.
On a gateway of this module's own: a notice on the shared stack would reach other tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent, gateway_beside
from tests.e2e.test_notes_browser import call
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "banner-password-6"
SUPERVISOR = "bea"
NOTICE = {
    "ko": "오늘 밤 11시부터 1시간 동안 주문 조회가 중단됩니다.",
    "ja": "今夜11時から1時間、注文状況の確認が停止します。",
    "en": "Order tracking is down for an hour from 11 pm tonight.",
}
DISMISS = {"ko": "이 안내 닫기", "ja": "このお知らせを閉じる", "en": "Dismiss this notice"}


@pytest.fixture(scope="module")
def own_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("banner-gateway")
    settings = live_stack.settings.replace(db_path=state / "handoff.sqlite3")
    add_agent(settings, SUPERVISOR, PASSWORD, "--role", "supervisor")
    with gateway_beside(live_stack.settings, state, "banner-gateway") as url:
        yield url


@pytest.fixture(scope="module")
def lead_token(own_gateway: str) -> str:
    signed_in = call(
        own_gateway, "POST", "/api/agent/login", body={"username": SUPERVISOR, "password": PASSWORD}
    )
    return str(signed_in["token"])


@pytest.fixture()
def widget(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def post_notice(url: str, token: str, **changes: Any) -> str:
    body = {"text": dict(NOTICE), "topics": ["tracking"], "severity": "outage", **changes}
    return str(call(url, "POST", "/api/supervisor/notices", token, body)["id"])


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_the_banner_shows_and_goes_live_when_the_notice_ends(
    own_gateway: str, lead_token: str, widget: Page, language: str
) -> None:
    url = own_gateway
    notice_id = post_notice(url, lead_token)
    try:
        widget.goto(f"{url}/?lang={language}")
        wait_until(widget, CONNECTED)
        banner = widget.locator("#notices")
        expect(banner).to_have_attribute("role", "status")
        item = banner.locator(f".notice[data-notice-id='{notice_id}']")
        expect(item.locator(".notice-text")).to_have_text(NOTICE[language], timeout=10_000)
        expect(item).to_have_class("notice notice-outage")
        expect(item.locator("button")).to_have_attribute("aria-label", DISMISS[language])
    finally:
        call(url, "POST", f"/api/supervisor/notices/{notice_id}/end", lead_token)
    # no reload: the websocket's frame takes it away
    expect(banner).to_be_hidden(timeout=10_000)
    expect(item).to_have_count(0)


def test_a_dismissed_banner_stays_away_for_the_session(
    own_gateway: str, lead_token: str, widget: Page
) -> None:
    url = own_gateway
    first = post_notice(url, lead_token)
    try:
        widget.goto(f"{url}/?lang=ko")
        wait_until(widget, CONNECTED)
        item = widget.locator(f"#notices .notice[data-notice-id='{first}']")
        expect(item).to_be_visible(timeout=10_000)
        item.get_by_role("button", name=DISMISS["ko"]).click()
        expect(widget.locator("#notices")).to_be_hidden()
        widget.reload()
        wait_until(widget, CONNECTED)
        widget.wait_for_timeout(500)  # the GET and the socket's frame have both come
        expect(widget.locator("#notices")).to_be_hidden()
        # another notice is not dismissed with it
        second = post_notice(url, lead_token, severity="info", topics=[])
        try:
            expect(widget.locator(f"#notices .notice[data-notice-id='{second}']")).to_be_visible(
                timeout=10_000
            )
            expect(item).to_have_count(0)
        finally:
            call(url, "POST", f"/api/supervisor/notices/{second}/end", lead_token)
    finally:
        call(url, "POST", f"/api/supervisor/notices/{first}/end", lead_token)
