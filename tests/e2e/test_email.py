"""Email as a second channel, with a real SMTP server (aiosmtpd) on loopback, on a gateway
of its own beside the live stack: offline tickets left the real way in ko, ja and en are
answered at the desk and mailed; the SMTP server being down at first only delays the mail;
the customer's emailed reply (ISO-2022-JP, EUC-KR, UTF-8, as their mailers write it) comes
back through POST /api/email/inbound into the same conversation, where agent and customer
read it as an email turn; forged tokens and wrong secrets are refused; a closed ticket's
emailed reply opens a new ticket; no email address reaches the gateway's log.

The tests run in file order: the first one starts the SMTP server (it is down until then)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.mime.text import MIMEText
from typing import Any

import aiohttp
import pytest

from handoff.customer.texts import load_texts
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.client import AgentClient, Customer
from tests.e2e.mail_server import MailingGateway, mailing_gateway, mails_within
from tests.e2e.test_tickets import ANSWER, LEFT, Left, leave_ticket

pytestmark = pytest.mark.e2e

PASSWORD = "email-desk-password-9"
AMY = "amy"
LOG_NAME = "email-gateway"
SECRET = "inbound-email-secret-for-the-e2e-test"
REPLY_ADDRESS = "help@reply.example.com"
MAX_INBOUND = 200_000
TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
CHARSETS = {"ja": "iso-2022-jp", "ko": "euc-kr", "en": "utf-8"}
EMAILED = {
    "ko": "감사합니다. 아직 입금이 안 됐는데 확인 부탁드려요.",
    "ja": "ありがとうございます。まだ入金されていないので確認をお願いします。",
    "en": "Thanks. The money has not arrived yet, could you check?",
}
QUOTED = {
    "ko": "2026년 12월 6일 (일) 오전 10:00, Support <help@reply.example.com>님이 작성:",
    "ja": "2026年12月6日(日) 10:00 サポート さんは書きました:",
    "en": "On Sun, Dec 6, 2026 at 10:00 AM Support <help@reply.example.com> wrote:",
}


@dataclass(frozen=True)
class EmailDesk:
    """The mailing gateway and the offline ticket left on it in each language."""

    mailing: MailingGateway
    left: dict[str, Left]


@pytest.fixture(scope="module")
def desk(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmailDesk]:
    with mailing_gateway(
        live_stack.settings,
        tmp_path_factory.mktemp("email-gateway"),
        LOG_NAME,
        smtp_up=False,  # the first test starts it: a reply waits for the server
        agents=[(AMY, PASSWORD)],
        email_reply_address=REPLY_ADDRESS,
        inbound_email_secret=SECRET,
        inbound_email_max_bytes=MAX_INBOUND,
    ) as mailing:

        async def leave_all() -> dict[str, Left]:
            return {lang: await leave_ticket(mailing.url, lang) for lang in ("en", "ko", "ja")}

        yield EmailDesk(mailing, asyncio.run(leave_all()))


def address_of(language: str) -> str:
    return next(word for word in LEFT[language][1].split() if "@" in word)


async def ticket_number(agent: AgentClient, conversation_id: str, view: str = "all") -> int:
    status, tickets = await agent.call("GET", f"/api/agent/tickets?view={view}")
    assert status == 200, tickets
    return max(t["ticket_id"] for t in tickets if t["conversation_id"] == conversation_id)


async def answer(agent: AgentClient, conversation_id: str, text: str) -> int:
    number = await ticket_number(agent, conversation_id, "open")
    status, body = await agent.call("POST", f"/api/agent/tickets/{number}/claim")
    assert status == 200, body
    status, body = await agent.call("POST", f"/api/agent/tickets/{number}/reply", {"text": text})
    assert status == 201, body
    return number


def customers_reply(
    mail: EmailMessage, language: str, text: str, message_id: str, to: str | None = None
) -> bytes:
    """What the customer's mailer sends back: their charset, the quote below."""
    reply = MIMEText(
        f"{text}\n\n{QUOTED[language]}\n> {mail.get_content()[:40]}\n", "plain", CHARSETS[language]
    )
    reply["From"] = address_of(language)
    reply["To"] = to or str(mail["Reply-To"])
    reply["Subject"] = "Re: " + str(mail["Subject"])
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = str(mail["Message-ID"])
    return reply.as_bytes()


async def post_mail(
    session: aiohttp.ClientSession,
    url: str,
    raw: bytes,
    secret: str | None = SECRET,
    content_type: str = "message/rfc822",
) -> tuple[int, Any]:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    async with session.post(f"{url}/api/email/inbound", data=raw, headers=headers) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_a_reply_waits_for_the_smtp_server_and_goes_out_once_it_is_up(
    desk: EmailDesk,
) -> None:
    left = desk.left["en"]
    async with aiohttp.ClientSession() as session:
        amy = await AgentClient(session, desk.mailing.url).login(AMY, PASSWORD)
        await answer(amy, left.conversation_id, ANSWER["en"])
        deadline = time.monotonic() + 30
        while not (
            (rows := desk.mailing.outbox(left.conversation_id)) and rows[0]["attempts"] >= 2
        ):
            assert time.monotonic() < deadline, "the sender never tried again"
            await asyncio.sleep(0.2)
        assert rows[0]["sent_at"] is None and rows[0]["last_error"]
        assert rows[0]["recipient"] == address_of("en")  # kept: needed to send it
        desk.mailing.smtp.start()
        [mail] = await asyncio.to_thread(mails_within, desk.mailing.mailbox, address_of("en"))
    assert ANSWER["en"] in mail.get_content()
    [sent] = desk.mailing.outbox(left.conversation_id)
    assert sent["sent_at"] is not None and sent["recipient"] == ""  # blanked once sent
    await asyncio.sleep(1.5)  # several more sender rounds: nothing is sent twice
    assert len(desk.mailing.mailbox.mails_to(address_of("en"))) == 1


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_the_customers_emailed_reply_continues_the_same_conversation(
    desk: EmailDesk, language: str
) -> None:
    desk.mailing.smtp.start()
    left = desk.left[language]
    address = address_of(language)
    async with aiohttp.ClientSession() as session:
        amy = await AgentClient(session, desk.mailing.url).login(AMY, PASSWORD)
        if language != "en":  # en was answered (and mailed) by the test above
            number = await answer(amy, left.conversation_id, ANSWER[language])
        else:
            number = await ticket_number(amy, left.conversation_id)
        [mail] = await asyncio.to_thread(mails_within, desk.mailing.mailbox, address)
        raw = customers_reply(mail, language, EMAILED[language], f"<{language}-1@example.net>")
        stored = await post_mail(session, desk.mailing.url, raw)
        again = await post_mail(session, desk.mailing.url, raw)
        _, view = await amy.call(
            "GET", f"/api/agent/conversations/{left.conversation_id}/transcript"
        )
        customer = Customer(session, desk.mailing.url)
        customer.conversation_id, customer.token = left.conversation_id, left.token
        theirs = await customer.transcript()
        # A reply after the ticket is closed opens a new one (a closed ticket stays closed).
        closed = await amy.call("POST", f"/api/agent/tickets/{number}/close", {})
        later = await post_mail(
            session,
            desk.mailing.url,
            customers_reply(mail, language, EMAILED[language] + " (2)", f"<{language}-2@x>"),
        )
        reopened = await ticket_number(amy, left.conversation_id, "open")
    subject = TEXTS.say("email_subject", language, ticket=number)
    assert mail["Subject"] == subject
    assert mail.get_content().startswith(TEXTS.say("email_greeting", language))
    assert ANSWER[language] in mail.get_content()
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("help+" + left.conversation_id + ".")
    assert reply_to.endswith("@reply.example.com")
    assert stored[0] == 201, stored
    assert stored[1]["conversation_id"] == left.conversation_id
    assert stored[1]["routed_to"] == "ticket" and stored[1]["ticket_id"] == number
    assert again[0] == 200 and again[1]["duplicate"] is True  # the same mail: stored once
    last = view["transcript"][-1]
    assert (last["role"], last["text"], last["channel"]) == ("customer", EMAILED[language], "email")
    agent_turns = [m["text"] for m in view["transcript"] if m["role"] == "agent"]
    assert agent_turns[-1] == ANSWER[language]  # chat and email turns: one thread
    mine = theirs["messages"][-1]
    assert (mine["text"], mine.get("channel")) == (EMAILED[language], "email")
    assert closed[0] == 200
    assert later[0] == 201 and later[1]["routed_to"] == "new_ticket"
    assert later[1]["ticket_id"] == reopened != number


async def test_forged_tokens_wrong_secrets_and_bad_mail_are_refused(desk: EmailDesk) -> None:
    desk.mailing.smtp.start()
    left = desk.left["ja"]
    [mail] = await asyncio.to_thread(mails_within, desk.mailing.mailbox, address_of("ja"))
    other = desk.left["ko"].conversation_id
    local = str(mail["Reply-To"].addresses[0].addr_spec).split("@")[0]
    genuine_mac = local.rsplit(".", 1)[1]
    moved = f"help+{other}.{genuine_mac}@reply.example.com"  # ja's MAC on ko's chat
    async with aiohttp.ClientSession() as session:
        forged = await post_mail(
            session, desk.mailing.url, customers_reply(mail, "ja", "偽物", "<f@x>", to=moved)
        )
        genuine = customers_reply(mail, "ja", "本物", "<g@x>")
        no_secret = await post_mail(session, desk.mailing.url, genuine, secret=None)
        wrong_secret = await post_mail(session, desk.mailing.url, genuine, secret="guess")
        no_token = await post_mail(
            session, desk.mailing.url, customers_reply(mail, "ja", "x", "<n@x>", to=REPLY_ADDRESS)
        )
        empty = await post_mail(session, desk.mailing.url, b"")
        garbage = await post_mail(session, desk.mailing.url, b"\x00\xff garbage without headers")
        wrong_type = await post_mail(
            session, desk.mailing.url, genuine, content_type="application/json"
        )
        too_big = await post_mail(session, desk.mailing.url, genuine + b"x" * (MAX_INBOUND + 1))
        said = await Customer(session, desk.mailing.url).start("en")
    assert (forged[0], forged[1]["error"]["code"]) == (403, "bad_reply_token")
    assert (no_secret[0], wrong_secret[0]) == (401, 401)
    assert (no_token[0], no_token[1]["error"]["code"]) == (422, "no_reply_token")
    assert (empty[0], empty[1]["error"]["code"]) == (400, "empty_body")
    assert (garbage[0], garbage[1]["error"]["code"]) == (422, "malformed_email")
    assert wrong_type[0] == 415
    assert (too_big[0], too_big[1]["error"]["code"]) == (413, "too_large")
    assert said.conversation_id  # the gateway still serves
    with sqlite3.connect(desk.mailing.state / "handoff.sqlite3") as db:
        texts = [row[0] for row in db.execute("SELECT text FROM messages")]
    assert "偽物" not in texts and "本物" not in texts
    assert left.conversation_id


def test_no_email_address_reaches_the_gateways_log(desk: EmailDesk) -> None:
    log = desk.mailing.log.read_text(encoding="utf-8")
    assert "email" in log and "sent" in log  # the sender did log, ids only
    for language in ("ko", "ja", "en"):
        assert address_of(language) not in log
        assert EMAILED[language] not in log
    assert "Traceback" not in log
