"""Attachments in real headless Chromium, in ko, ja and en: a customer attaches a PNG in
the widget (its thumbnail shows, from a blob: URL), the agent sees the image in the
console's transcript and sends a PDF back, the customer gets it as a file chip; a file of
another type is refused in the customer's language."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_handoff_browser import send, sign_in
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AGENT = "attila"
PASSWORD = "attach-browser-password-3"
IMAGE_NAMES = {"ko": "주문-사진.png", "ja": "注文の写真.png", "en": "order photo.png"}
PDF_NAME = "refund-guide.pdf"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
# What the widget says, per language (widget.js STRINGS: attach, wrongType).
ATTACH_LABEL = {
    "ko": "이미지 또는 PDF 첨부",
    "ja": "画像またはPDFを添付",
    "en": "Attach an image or a PDF",
}
WRONG_TYPE = {
    "ko": "이미지(JPEG, PNG, GIF, WebP)와 PDF 파일만 보낼 수 있어요.",
    "ja": "送信できるのは画像（JPEG、PNG、GIF、WebP）とPDFファイルのみです。",
    "en": "Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent.",
}
# The limit in the words is the gateway's setting (5 MB by default), sent with the refusal.
TOO_BIG = {
    "ko": "파일이 너무 커요. 5MB 이하의 파일을 보내 주세요.",
    "ja": "ファイルが大きすぎます。5MB以下のファイルを送ってください。",
    "en": "That file is too large. Please send one under 5 MB.",
}
BIG_PDF = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 1)
LOADED = "el => el.complete && el.naturalWidth > 0 && el.src.startsWith('blob:')"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (220, 90, 20)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def agent(live_stack: Stack) -> str:
    env = {**os.environ, **live_stack.settings.to_env(), "AGENT_PASSWORD": PASSWORD}
    subprocess.run(
        [sys.executable, "-m", "handoff", "agents", "add", AGENT, "--capacity", "4"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return AGENT


@pytest.fixture()
def pages(browser: Browser) -> Iterator[tuple[Page, Page]]:  # noqa: F811
    contexts: list[BrowserContext] = [
        browser.new_context(viewport={"width": 390, "height": 800}),
        browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US"),
    ]
    widget, console = (context.new_page() for context in contexts)
    yield widget, console
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("lang", "question", "ask_person", "detail", "reply"), FLOWS)
def test_files_go_both_ways_between_widget_and_console(
    live_stack: Stack,
    agent: str,
    pages: tuple[Page, Page],
    lang: str,
    question: str,
    ask_person: str,
    detail: str,
    reply: str,
) -> None:
    url = live_stack.settings.gateway_url
    widget, console = pages
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(console, url, agent, PASSWORD)
    widget.goto(f"{url}/?lang={lang}")
    wait_until(widget, CONNECTED)
    attach = widget.locator("#attach")
    expect(attach).to_have_attribute("aria-label", ATTACH_LABEL[lang])
    expect(attach).to_be_enabled()
    send(widget, "#input", "#send", question)
    expect(widget.locator("#messages .msg-bot").first).to_be_visible(timeout=60_000)
    send(widget, "#input", "#send", ask_person)
    expect(widget.locator("#status")).to_be_visible(timeout=60_000)
    conversation_id = widget.evaluate("window.maruChat.conversationId")
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console.locator("#transcript")).to_contain_text(ask_person, timeout=10_000)

    # the attach button is reached from the keyboard (before the input in the tab order)
    widget.focus("#input")
    widget.keyboard.press("Shift+Tab")
    assert widget.evaluate("document.activeElement.id") == "attach"

    # the customer attaches a PNG: a thumbnail in the widget, and in the console
    widget.set_input_files(
        "#attach-input",
        files=[{"name": IMAGE_NAMES[lang], "mimeType": "image/png", "buffer": png()}],
    )
    mine = widget.locator("#messages .msg-customer img.attachment-image")
    expect(mine).to_have_count(1, timeout=10_000)
    expect(widget.locator("#messages .msg-customer .file-chip")).to_have_text(IMAGE_NAMES[lang])
    wait_until(widget, "document.querySelector('#messages img.attachment-image').naturalWidth > 0")
    assert mine.evaluate(LOADED)
    seen = console.locator("#transcript .msg-customer img.attachment-image")
    expect(seen).to_have_count(1, timeout=10_000)
    wait_until(
        console, "document.querySelector('#transcript img.attachment-image').naturalWidth > 0"
    )
    assert seen.evaluate(LOADED)
    expect(console.locator("#attach")).to_have_attribute("aria-label", "Attach an image or a PDF")

    # the agent sends a PDF back: the customer gets a file chip with its name
    console.set_input_files(
        "#attach-input", files=[{"name": PDF_NAME, "mimeType": "application/pdf", "buffer": PDF}]
    )
    chip = widget.locator("#messages .msg-agent .file-chip")
    expect(chip).to_have_text(PDF_NAME, timeout=10_000)
    assert widget.locator("#messages .msg-agent img").count() == 0  # a PDF is no image
    expect(console.locator("#transcript .msg-agent .file-chip")).to_have_text(PDF_NAME)
    # clicking the chip fetches the file and hands it to the browser as a download
    with widget.expect_download() as download:
        chip.click()
    assert download.value.suggested_filename == PDF_NAME

    # a page renamed .png is refused, in the customer's language
    widget.set_input_files(
        "#attach-input",
        files=[
            {"name": "cat.png", "mimeType": "image/png", "buffer": b"<html>not an image</html>"}
        ],
    )
    expect(widget.locator("#error")).to_have_text(WRONG_TYPE[lang], timeout=10_000)

    # one byte over the limit: refused, with the limit the gateway told, on both sides
    big = [{"name": "big.pdf", "mimeType": "application/pdf", "buffer": BIG_PDF}]
    widget.set_input_files("#attach-input", files=big)
    expect(widget.locator("#error")).to_have_text(TOO_BIG[lang], timeout=20_000)
    console.set_input_files("#attach-input", files=big)
    expect(console.locator("#send-error")).to_have_text(
        "That file is too large: the limit is 5 MB.", timeout=20_000
    )
    assert errors == []
    console.click("#resolve")
