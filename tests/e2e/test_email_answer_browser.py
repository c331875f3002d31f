""" "Email me this answer" in the widget, in a real headless Chromium (Debian's): under a KB
answer in ko, ja and en the button opens a labelled form (focus moves into it and back),
the mail reaches a real SMTP server, the masked confirmation is said in the widget's
language; axe-core finds nothing serious on the open form; with email off there is no
button."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from stack.launcher import Stack
from tests.e2e.axe import assert_accessible
from tests.e2e.mail_server import MailingGateway, mailing_gateway, mails_within, text_of
from tests.e2e.test_email_answer import QUESTIONS
from tests.e2e.test_widget_browser import (  # noqa: F401 - shared fixtures
    CONNECTED,
    browser,
    page,
    send,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LOG_NAME = "email-answer-browser-gateway"
ADDRESSES = {
    "ko": "jisoo.widget@example.com",
    "ja": "yuki.widget@example.jp",
    "en": "sam.widget@example.com",
}
# What the widget says (widget.js STRINGS): the button, the field's label, the outcome.
SAYS = {
    "ko": ("이 답변 메일로 받기", "이메일 주소", "{to}(으)로 보냈어요"),
    "ja": ("この回答をメールで受け取る", "メールアドレス", "{to} に送信しました"),
    "en": ("Email me this answer", "Your email address", "Sent to {to}"),
}
INVALID = {
    "ko": "name@example.com 형식의 이메일 주소를 입력해 주세요.",
    "ja": "name@example.com のような形式でメールアドレスを入力してください。",
    "en": "Please enter an email address like name@example.com.",
}


@pytest.fixture(scope="module")
def mailing(
    live_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MailingGateway]:
    state = tmp_path_factory.mktemp("email-answer-browser")
    with mailing_gateway(live_stack.settings, state, LOG_NAME) as gateway:
        yield gateway


def focused(tab: Page) -> str:
    """The focused element's class and id, as `class#id`."""
    return str(tab.evaluate("`${document.activeElement.className}#${document.activeElement.id}`"))


@pytest.mark.parametrize("lang", ["ko", "ja", "en"])
def test_a_kb_answer_is_mailed_from_the_widget(
    page: Page,  # noqa: F811 - the shared fixture
    mailing: MailingGateway,
    lang: str,
) -> None:
    button_text, label_text, sent_text = SAYS[lang]
    address = ADDRESSES[lang]
    page.goto(f"{mailing.url}/?lang={lang}")
    wait_until(page, CONNECTED)
    send(page, QUESTIONS[lang])
    offer = page.locator("#messages .msg-bot button.email-answer-open")
    expect(offer).to_have_count(1, timeout=20_000)  # under the answer, not "did that help?"
    expect(offer).to_have_text(button_text)
    expect(offer).to_have_attribute("aria-expanded", "false")

    offer.click()
    form = page.locator("#messages form.email-answer-form")
    expect(form).to_be_visible()
    field = page.get_by_label(label_text, exact=True)
    expect(field).to_be_focused()  # focus moved into the form; the label names the field
    expect(offer).to_have_attribute("aria-expanded", "true")
    assert_accessible(page, f"the widget's open email form ({lang})")

    # A typo is said in the widget's language, in the live region, and nothing is sent.
    field.fill("not-an-address")
    field.press("Enter")
    result = page.locator("#messages .email-answer-result")
    expect(result).to_have_text(INVALID[lang])
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()

    # Cancel (here: Escape) closes it and gives focus back to the button.
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    assert focused(page).startswith("email-answer-open")

    offer.press("Enter")  # by keyboard this time
    expect(field).to_be_focused()
    field.fill(address)
    page.locator("#messages button.email-answer-send").click()
    masked = f"{address[0]}…@{address.split('@')[1]}"
    expect(result).to_have_text(sent_text.format(to=masked), timeout=10_000)
    expect(result).to_have_attribute("aria-live", "polite")
    expect(form).to_be_hidden()
    assert focused(page).startswith("email-answer-open")
    [mail] = mails_within(mailing.mailbox, address)
    answer = page.locator("#messages .msg-bot .bubble").first.inner_text()
    assert answer.strip() in text_of(mail)


def test_with_email_off_the_widget_offers_no_email(page: Page, gateway_url: str) -> None:  # noqa: F811
    page.goto(f"{gateway_url}/?lang=en")
    wait_until(page, CONNECTED)
    send(page, QUESTIONS["en"])
    expect(page.locator("#messages .msg-bot")).to_have_count(2, timeout=20_000)
    expect(page.locator("#messages .msg-bot .choice")).to_have_count(2)  # "did that help?"
    expect(page.locator(".email-answer-open")).to_have_count(0)
    assert page.evaluate("window.maruChat.connected") is True
