"""The email outbox and its sender against a real SMTP server (aiosmtpd on loopback) and a
real SQLite store: a ticket reply is mailed through the ticket desk's seam, a server that
is down is retried until it is up, a refused mailbox is given up on at once with a note
for the agents, and the recipient is blanked either way; addresses never reach the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from handoff.conversation.tickets import TicketDesk, WidgetDelivery
from handoff.customer.texts import load_texts
from handoff.email.config import EmailConfig
from handoff.email.outbox import NOTE_AUTHOR, EmailDelivery, EmailSender
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from handoff.web.metrics import Metrics
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.isolated import free_port

TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
REFUSED = "gone@example.com"


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def mailbox(port: int) -> Iterator[tuple[Mailbox, Controller]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    yield box, controller
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, HandoffStore]]:
    store = await SQLiteStore.open(tmp_path / "mail.sqlite3")
    handoffs = HandoffStore(store.connection)
    await handoffs.upsert_agent("kim", "pw-kimkimkimkim", ["ko", "ja", "en"], [], 2)
    yield store, handoffs
    handoffs.hasher.close()
    await store.close()


def config(port: int) -> EmailConfig:
    made = EmailConfig.from_settings(
        Settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            email_from="Support <support@example.com>",
            email_reply_address="help@reply.example.com",
            inbound_email_secret="secret",
            email_retry_seconds=0.0,  # due again at once: the test drives the rounds
            email_max_attempts=3,
            smtp_timeout_seconds=5.0,
        )
    )
    assert made is not None
    return made


async def reply_to_ticket(
    stores: tuple[SQLiteStore, HandoffStore], sender: EmailSender, language: str, address: str
) -> str:
    store, handoffs = stores
    conversation, _ = await store.create_conversation(language, {})
    number = await handoffs.create_ticket(conversation.id, language, {"email": address}, "help")
    hub = Hub()
    delivery = EmailDelivery(store, TEXTS, sender.config, WidgetDelivery(hub), sender)
    desk = TicketDesk(store, handoffs, hub, TEXTS, Metrics(), lambda n: f"agent:{n}", delivery)
    await desk.change(number, "claim", "kim")
    await desk.reply(number, "kim", "カード 4111 1111 1111 1111 の返金は完了しました。")
    return conversation.id


async def test_a_reply_is_retried_while_the_server_is_down_then_mailed_once(
    stores: tuple[SQLiteStore, HandoffStore],
    mailbox: tuple[Mailbox, Controller],
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    store, handoffs = stores
    box, controller = mailbox
    sender = EmailSender(store, handoffs, TEXTS, config(port))
    cid = await reply_to_ticket(stores, sender, "ja", "aiko@example.jp")
    assert await sender.send_due() == 0  # nothing listens yet
    [waiting] = await store.emails(cid)
    assert waiting.attempts == 1 and waiting.recipient == "aiko@example.jp"
    assert waiting.last_error and waiting.sent_at is None
    controller.start()
    assert await sender.send_due() == 1
    assert await sender.send_due() == 0  # sent once only
    [envelope] = box.received
    assert envelope.rcpt_tos == ["aiko@example.jp"]
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    body = mail.get_content()
    assert "の返金は完了しました。" in body and mail["Subject"].startswith("【お問い合わせ #")
    assert "4111 1111 1111 1111" not in body  # masked, as in the transcript
    [sent] = await store.emails(cid)
    assert sent.sent_at is not None and sent.recipient == "" and sent.attempts == 2
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("handoff"))
    assert "email 1 sent" in ours  # (aiosmtpd's own log, the test server's, is not ours)
    assert "aiko@example.jp" not in ours and "返金" not in ours


async def test_a_refused_mailbox_is_given_up_at_once_with_a_note_for_the_agents(
    stores: tuple[SQLiteStore, HandoffStore], mailbox: tuple[Mailbox, Controller], port: int
) -> None:
    store, handoffs = stores
    box, controller = mailbox
    controller.start()
    sender = EmailSender(store, handoffs, TEXTS, config(port))
    cid = await reply_to_ticket(stores, sender, "ko", REFUSED)
    assert await sender.send_due() == 0
    [failed] = await store.emails(cid)
    assert failed.failed_at is not None and failed.recipient == ""
    assert failed.attempts == 1 and failed.last_error == "SMTPRecipientsRefused 550"
    [note] = await handoffs.notes(cid)
    assert note.author == NOTE_AUTHOR
    assert note.text.startswith("이메일 미전달")
    assert box.received == []


async def test_a_server_that_stays_down_is_given_up_after_the_last_attempt(
    stores: tuple[SQLiteStore, HandoffStore], port: int
) -> None:
    store, handoffs = stores
    sender = EmailSender(store, handoffs, TEXTS, config(port))
    cid = await reply_to_ticket(stores, sender, "en", "sam@example.com")
    for _ in range(5):
        await sender.send_due()
    [failed] = await store.emails(cid)
    assert failed.attempts == 3 and failed.failed_at is not None and failed.recipient == ""
    [note] = await handoffs.notes(cid)
    assert note.text.startswith("Email not delivered")


async def test_no_email_address_no_mail(
    stores: tuple[SQLiteStore, HandoffStore], port: int
) -> None:
    store, handoffs = stores
    sender = EmailSender(store, handoffs, TEXTS, config(port))
    conversation, _ = await store.create_conversation("en", {})
    number = await handoffs.create_ticket(conversation.id, "en", {"phone": "010-1234-5678"}, "hi")
    hub = Hub()
    delivery = EmailDelivery(store, TEXTS, sender.config, WidgetDelivery(hub), sender)
    desk = TicketDesk(store, handoffs, hub, TEXTS, Metrics(), lambda n: f"agent:{n}", delivery)
    await desk.change(number, "claim", "kim")
    await desk.reply(number, "kim", "We called you.")
    assert await store.emails(conversation.id) == []
