""" "Email me this answer": a customer has one of the bot's KB answers mailed to them, on a
gateway of the test's own with email on and a real SMTP server (aiosmtpd) on loopback.

The mail arrives in the conversation's language (ko, ja, en: subject, lead line, the
answer and its article link, decoded from the wire), the outbox forgets the address once
it is sent, the customer's own words never go into it; other conversations' answers,
customer messages, bad addresses (header injection included) and a fourth request in ten
minutes are refused; with email off (the live stack) the widget is told not to offer it;
no address reaches the gateway's log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
import pytest

from handoff.customer.texts import load_texts
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.client import Customer
from tests.e2e.mail_server import MailingGateway, mailing_gateway, mails_within, text_of

pytestmark = pytest.mark.e2e

LOG_NAME = "email-answer-gateway"
TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
# Questions of the shipping_time article (data/kb/shipping.yml), which has a link.
QUESTIONS = {
    "ko": "배송 얼마나 걸려요?",
    "ja": "配送にどのくらいかかりますか",
    "en": "how long does shipping take",
}
ARTICLE_LINK = "https://maru-store.example/help/shipping"
ADDRESSES = {
    "ko": "minji.kim@example.com",
    "ja": "hanako.sato@example.co.jp",
    "en": "amy.answer@example.com",
}
INJECTED = "evil@attacker.example"
BAD_ADDRESSES: list[Any] = [
    f"victim@example.com\r\nBcc: {INJECTED}",  # header injection
    f"victim@example.com\nBcc: {INJECTED}",
    f"victim@example.com, {INJECTED}",  # a second recipient
    "no-at-sign.example.com",
    "two@@example.com",
    "user@localhost",  # no dot in the domain
    "with space@example.com",
    "a" * 288 + "@example.com",  # 300 characters
    ["victim@example.com"],
    42,
    None,
]


@pytest.fixture(scope="module")
def mailing(
    live_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MailingGateway]:
    state = tmp_path_factory.mktemp("email-answer-gateway")
    with mailing_gateway(live_stack.settings, state, LOG_NAME) as gateway:
        yield gateway


async def ask(customer: Customer, language: str) -> dict[str, Any]:
    """The bot's KB answer to the language's shipping question (the message as the API
    shows it, with its `article_id`)."""
    said = await customer.say(QUESTIONS[language])
    answers: list[dict[str, Any]] = [r for r in said["replies"] if r.get("article_id")]
    assert answers, said
    return answers[0]


async def email_answer(
    session: aiohttp.ClientSession,
    customer: Customer,
    body: Any,
    conversation_id: str | None = None,
) -> tuple[int, Any, Mapping[str, str]]:
    url = (
        f"{customer.base_url}/api/conversations/"
        f"{conversation_id or customer.conversation_id}/email-answer"
    )
    async with session.post(url, json=body, headers=customer.headers) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json(), response.headers


async def wait_until_sent(mailing: MailingGateway, conversation_id: str) -> list[Any]:
    deadline = time.monotonic() + 30
    while not ((rows := mailing.outbox(conversation_id)) and rows[-1]["sent_at"]):
        assert time.monotonic() < deadline, "the outbox row was never marked sent"
        await asyncio.sleep(0.2)
    return rows


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_the_answer_arrives_by_email_in_the_conversations_language(
    mailing: MailingGateway, language: str
) -> None:
    address = ADDRESSES[language]
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, mailing.url).start(language)
        answer = await ask(customer, language)
        offered = (await customer.transcript())["email_answers"]
        status, body, _ = await email_answer(
            session, customer, {"email": address, "seq": answer["seq"]}
        )
        [mail] = await asyncio.to_thread(mails_within, mailing.mailbox, address)
        rows = await wait_until_sent(mailing, customer.conversation_id)
    assert offered is True
    assert (status, body) == (202, {"queued": True, "to": f"{address[0]}…@{address.split('@')[1]}"})
    assert mail["To"] == address
    assert mail["Subject"] == TEXTS.say("email_answer_subject", language)
    text = text_of(mail)
    assert text.startswith(TEXTS.say("email_answer_lead", language))
    assert answer["text"].strip() in text
    assert TEXTS.say("email_answer_links", language) in text and ARTICLE_LINK in text
    assert QUESTIONS[language] not in text  # only our own words
    # Replying to it continues the conversation, as for a ticket reply's mail.
    assert mail["Reply-To"].addresses[0].addr_spec.startswith(f"help+{customer.conversation_id}.")
    [row] = rows
    assert row["recipient"] == "" and row["last_error"] is None  # the address is forgotten


async def test_only_this_conversations_bot_answers_are_mailed(mailing: MailingGateway) -> None:
    address = "only.answers@example.com"
    async with aiohttp.ClientSession() as session:
        owner = await Customer(session, mailing.url).start("en")
        answer = await ask(owner, "en")
        other = await Customer(session, mailing.url).start("en")
        others_reply = (await other.say("hello there"))["replies"][0]
        asked = (await owner.transcript())["messages"]
        question_seq = next(m["seq"] for m in asked if m["role"] == "customer")
        results = {
            "the customer's own message": await email_answer(
                session, owner, {"email": address, "seq": question_seq}
            ),
            "no such seq": await email_answer(session, owner, {"email": address, "seq": 9999}),
            "a greeting, not an answer": await email_answer(
                session, other, {"email": address, "seq": others_reply["seq"]}
            ),
            "the answer's seq in another conversation": await email_answer(
                session, other, {"email": address, "seq": answer["seq"]}
            ),
        }
        forbidden = await email_answer(
            session, other, {"email": address, "seq": answer["seq"]}, owner.conversation_id
        )
        await asyncio.sleep(1.5)  # several sender rounds
    for what, (status, body, _) in results.items():
        assert (status, body["error"]["code"]) == (404, "not_found"), what
    assert forbidden[0] == 403  # another customer's token does not open this conversation
    assert mailing.mailbox.mails_to(address) == []
    assert mailing.outbox(owner.conversation_id) == mailing.outbox(other.conversation_id) == []


async def test_bad_addresses_and_bodies_are_refused_and_nothing_is_sent(
    mailing: MailingGateway,
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, mailing.url).start("ja")
        answer = await ask(customer, "ja")
        seq = answer["seq"]
        refused = [
            await email_answer(session, customer, {"email": bad, "seq": seq})
            for bad in BAD_ADDRESSES
        ]
        bodies = [
            await email_answer(session, customer, body)
            for body in (
                {"seq": seq},
                {"email": "fine@example.com"},
                {"email": "fine@example.com", "seq": str(seq)},
                {"email": "fine@example.com", "seq": True},
                {"email": "fine@example.com", "seq": 0},
                {"email": "fine@example.com", "seq": 10**30},
                {"email": "fine@example.com", "seq": seq, "cc": INJECTED},
                ["fine@example.com", seq],
            )
        ]
        # None of them counted against the rate limit: three good ones still pass.
        good = [
            await email_answer(session, customer, {"email": f"ok{n}@example.com", "seq": seq})
            for n in range(3)
        ]
        await asyncio.to_thread(mails_within, mailing.mailbox, "ok2@example.com")
    for (status, body, _), bad in zip(refused, BAD_ADDRESSES, strict=True):
        assert status == 400, bad
        assert body["error"]["code"] == "bad_request" and "'email'" in body["error"]["message"]
        assert INJECTED not in body["error"]["message"]  # the input is not echoed
    for status, body, _ in bodies:
        assert status == 400 and body["error"]["code"] == "bad_request", body
    assert [status for status, _, _ in good] == [202, 202, 202]
    assert INJECTED not in mailing.mailbox.recipients()
    assert all(INJECTED not in str(mail) for _, mail in mailing.mailbox.received)


async def test_a_fourth_request_in_ten_minutes_is_told_to_wait(mailing: MailingGateway) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, mailing.url).start("ko")
        answer = await ask(customer, "ko")
        results = [
            await email_answer(
                session, customer, {"email": f"often{n}@example.com", "seq": answer["seq"]}
            )
            for n in range(4)
        ]
        # Another conversation has a budget of its own.
        other = await Customer(session, mailing.url).start("ko")
        others_answer = await ask(other, "ko")
        elsewhere = await email_answer(
            session, other, {"email": "often9@example.com", "seq": others_answer["seq"]}
        )
        await asyncio.to_thread(mails_within, mailing.mailbox, "often2@example.com")
        await asyncio.sleep(1.0)
    assert [status for status, _, _ in results] == [202, 202, 202, 429]
    _, body, headers = results[3]
    assert body["error"]["code"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 600
    assert elsewhere[0] == 202
    assert mailing.mailbox.mails_to("often3@example.com") == []


async def test_with_email_off_nothing_is_offered_and_the_route_says_so(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{gateway_url}/api/conversations", json={"language": "en"}) as r:
            started = await r.json()
        customer = Customer(session, gateway_url)
        customer.conversation_id, customer.token = started["conversation_id"], started["token"]
        answer = await ask(customer, "en")
        offered = (await customer.transcript())["email_answers"]
        status, body, _ = await email_answer(
            session, customer, {"email": "off@example.com", "seq": answer["seq"]}
        )
    assert started["email_answers"] is False and offered is False
    assert (status, body["error"]["code"]) == (404, "email_off")


def test_no_address_reaches_the_gateways_log(mailing: MailingGateway) -> None:
    log = mailing.log.read_text(encoding="utf-8")
    assert "queued as email" in log and "sent" in log  # it did log, ids only
    for address in [*ADDRESSES.values(), "ok0@example.com", "often0@example.com", INJECTED]:
        assert address not in log
    assert "Traceback" not in log
