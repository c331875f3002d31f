"""A real SMTP server (aiosmtpd) on loopback for the email tests, the mails it took, and
a gateway of the test's own that sends through it (tests/e2e/test_email*.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from stack.settings import Settings
from tests.e2e.isolated import free_port, gateway_beside


class Mailbox:
    """aiosmtpd's handler: keeps every mail it is given (the server runs in a thread)."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append((envelope, parsed))
        return "250 Message accepted for delivery"

    def mails_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [mail for env, mail in self.received if env.rcpt_tos == [address]]

    def recipients(self) -> list[str]:
        """Every envelope recipient of every mail taken so far."""
        with self.lock:
            return [address for env, _ in self.received for address in env.rcpt_tos]


def text_of(mail: EmailMessage) -> str:
    """The mail's text, decoded from its transfer encoding and charset, with \\n lines."""
    content = mail.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def mails_within(
    mailbox: Mailbox, address: str, count: int = 1, timeout: float = 30.0
) -> list[EmailMessage]:
    """The mails to `address` once there are `count` of them (AssertionError after `timeout`)."""
    deadline = time.monotonic() + timeout
    while len(mails := mailbox.mails_to(address)) < count:
        assert time.monotonic() < deadline, f"{len(mails)} of {count} mail(s) in {timeout:.0f} s"
        time.sleep(0.2)
    return mails


class SmtpServer:
    """aiosmtpd on a loopback port picked now, keeping its mails in `mailbox`. It listens
    only once `start` is called, so a test can have the server down at first (the port is
    known to the gateway already) and bring it up later."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen on `port`; nothing happens if it already does."""
        if self._controller is None:
            self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass(frozen=True)
class MailingGateway:
    """A gateway with email on, its SQLite state, its log and its SMTP server."""

    url: str
    state: Path
    log: Path
    smtp: SmtpServer

    @property
    def mailbox(self) -> Mailbox:
        """Every mail the SMTP server took."""
        return self.smtp.mailbox

    def outbox(self, conversation_id: str) -> list[sqlite3.Row]:
        with sqlite3.connect(self.state / "handoff.sqlite3") as db:
            db.row_factory = sqlite3.Row
            return db.execute(
                "SELECT * FROM email_outbox WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()


@contextmanager
def mailing_gateway(
    stack_settings: Settings,
    state: Path,
    name: str,
    *,
    smtp_up: bool = True,
    **overrides: Any,
) -> Iterator[MailingGateway]:
    """A gateway beside the running stack (tests/e2e/isolated.py) mailing through a real
    SMTP server on loopback, up before the gateway starts; with `smtp_up=False` it stays
    down until the test calls `smtp.start()`. `overrides` go to the gateway's settings
    (agents=[(username, password)] too)."""
    smtp = SmtpServer()
    if smtp_up:
        smtp.start()
    try:
        settings = {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "email_from": "Support <support@example.com>",
            "email_reply_address": "help@reply.example.com",
            "inbound_email_secret": f"inbound-secret-of-{name}",
            "email_retry_seconds": 0.5,
            "email_poll_seconds": 0.5,
            **overrides,
        }
        with gateway_beside(stack_settings, state, name, **settings) as url:
            yield MailingGateway(url, state, stack_settings.log_dir / f"{name}.log", smtp)
    finally:
        smtp.stop()
