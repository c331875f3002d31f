""" "Email me this answer": what the mail holds in each language, the masked address the
widget is told, which messages count as a KB answer, and the addresses the request model
refuses (header injection, a second recipient, no dotted domain, too long)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from handoff.conversation.models import Message
from handoff.customer.texts import load_texts
from handoff.email.answers import answer_content, mask_address
from handoff.email.compose import build_message
from handoff.email.config import EmailConfig
from handoff.email.model import OutgoingEmail
from handoff.web.request_models import EmailAnswerRequest, InvalidRequest, parse
from stack.settings import Settings

TEXTS = load_texts(Settings().gateway_texts_path)
CID = "0b0e4c1e-6a7e-4a3c-9d55-0f3f9e1c2b7a"
ANSWERS = {
    "ko": "보통 결제 후 2~3영업일 안에 도착해요.",
    "ja": "通常、ご注文から2〜3営業日でお届けします。",
    "en": "Orders usually arrive within 2-3 business days.",
}
SUBJECTS = {
    "ko": "[마루 스토어] 요청하신 답변입니다",
    "ja": "【マルストア】ご依頼の回答です",
    "en": "[Maru Store] The answer you asked for",
}
LINK = {"title": "Shipping", "url": "https://maru-store.example/help/shipping"}


def answer(text: str, links: list[dict[str, str]] | None = None, **meta: Any) -> Message:
    return Message(
        CID,
        5,
        "bot",
        text,
        "2026-12-06T02:00:00.000Z",
        links=links or [],
        meta=meta or {"kb": {"article_id": "shipping_time", "decision": "answer"}},
    )


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_the_mail_is_our_lead_the_answer_and_its_link_in_the_language(language: str) -> None:
    subject, body = answer_content(TEXTS, language, answer(ANSWERS[language], [LINK]))
    config = EmailConfig.from_settings(
        Settings(
            smtp_host="127.0.0.1",
            email_from="Support <support@example.com>",
            email_reply_address="help@reply.example.com",
            inbound_email_secret="s3cret-for-tests",
        )
    )
    assert config is not None
    outgoing = OutgoingEmail(
        1, CID, "amy@example.com", subject, body, "<m@x>", (), 1, "", None, None, None, ""
    )
    wire = build_message(config, outgoing).as_bytes()
    mail = message_from_bytes(wire, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    text = mail.get_content().replace("\r\n", "\n")
    assert subject == SUBJECTS[language] == mail["Subject"]
    assert text.startswith(TEXTS.say("email_answer_lead", language) + "\n\n" + ANSWERS[language])
    assert f"{TEXTS.say('email_answer_links', language)}\n- Shipping: {LINK['url']}" in text
    assert text.rstrip().endswith(TEXTS.say("email_footer", language))


def test_an_answer_without_links_has_no_links_line() -> None:
    _, body = answer_content(TEXTS, "en", answer(ANSWERS["en"]))
    assert TEXTS.say("email_answer_links", "en") not in body
    _, body = answer_content(TEXTS, "en", answer(ANSWERS["en"], [{"title": "", "url": "u"}]))
    assert "\n- u\n" in body


def test_only_a_kb_answer_of_the_bots_counts_and_the_widget_is_told() -> None:
    kb = answer(ANSWERS["en"])
    assert kb.answered_article() == "shipping_time"
    assert kb.public()["article_id"] == "shipping_time"
    for other in (
        answer("Hello! How can I help?", intent="greet"),  # no KB decision
        answer("Which one?", kb={"decision": "clarify"}),  # options, no article
        Message(CID, 4, "customer", "x", "t", meta={"kb": {"article_id": "shipping_time"}}),
    ):
        assert other.answered_article() is None
        assert "article_id" not in other.public()


@pytest.mark.parametrize(
    ("address", "masked"),
    [("amy@example.com", "a…@example.com"), ("x@mail.example.co.jp", "x…@mail.example.co.jp")],
)
def test_the_widget_is_told_the_address_masked(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    "address",
    [
        "amy@example.com",
        "first.last+tag@mail.example.co.jp",
        "o'brien@example.ie",
        "x@xn--bcher-kva.example",
    ],
)
def test_ordinary_addresses_are_taken(address: str) -> None:
    assert parse(EmailAnswerRequest, {"email": address, "seq": 3}).email == address


@pytest.mark.parametrize(
    "body",
    [
        {"email": "victim@example.com\r\nBcc: evil@attacker.example", "seq": 3},
        {"email": "victim@example.com\nBcc: evil@attacker.example", "seq": 3},
        {"email": "victim@example.com, evil@attacker.example", "seq": 3},
        {"email": "Victim <victim@example.com>", "seq": 3},
        {"email": "no-at.example.com", "seq": 3},
        {"email": "a@b@example.com", "seq": 3},
        {"email": "user@localhost", "seq": 3},
        {"email": "user@example.com.", "seq": 3},
        {"email": "with space@example.com", "seq": 3},
        {"email": "a" * 288 + "@example.com", "seq": 3},
        {"email": "a@" + "b" * 250 + ".com", "seq": 3},
        {"email": ["amy@example.com"], "seq": 3},
        {"email": 42, "seq": 3},
        {"email": "amy@example.com", "seq": "3"},
        {"email": "amy@example.com", "seq": True},
        {"email": "amy@example.com", "seq": 0},
        {"email": "amy@example.com", "seq": 2**31},
        {"email": "amy@example.com"},
        {"seq": 3},
        {"email": "amy@example.com", "seq": 3, "bcc": "evil@attacker.example"},
    ],
)
def test_bad_bodies_are_refused_naming_the_field(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse(EmailAnswerRequest, body)
    message = str(refused.value)
    assert "'email'" in message or "'seq'" in message or "bcc" in message
    assert "attacker" not in message  # the input is not echoed
