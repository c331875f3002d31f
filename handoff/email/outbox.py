"""Ticket replies by email: kept in the outbox when stored, sent by one task per gateway.

`EmailDelivery` writes the mail into the outbox (store.add_email) right after the reply is
stored, and wakes the sender. `EmailSender.run` sends due rows over SMTP (aiosmtplib):
a row is claimed with a lease (store.claim_due_emails: on PostgreSQL FOR UPDATE SKIP
LOCKED, so two replicas never send the same mail), sent, and marked sent. A connection
error, a timeout or a 4xx answer is retried after `retry_seconds`, doubling each time; a
5xx answer or the last of `max_attempts` tries gives it up: the agents see an "email not
delivered" note in the conversation (the customer still reads the reply in the widget).
Sent or given up, the row's recipient is blanked. The customer's address is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from typing import Any

import aiosmtplib

from handoff.conversation.models import Message
from handoff.conversation.tickets import TicketReplyDelivery
from handoff.customer.texts import GatewayTexts
from handoff.email.compose import build_message, new_message_id, reply_content
from handoff.email.config import EmailConfig
from handoff.email.model import OutgoingEmail
from handoff.store.interface import Handoffs, Store

log = logging.getLogger(__name__)

# Rows one sender takes at a time, and how long it holds them (a sender that dies
# mid-send frees them then; far above one SMTP exchange).
BATCH = 20
# The author of the agents' note when a mail is given up on.
NOTE_AUTHOR = "email"


def _stamp(moment: datetime) -> str:
    """The store's timestamp format (store.interface.utc_now): sortable as text."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EmailDelivery:
    """A ticket reply to the widget (`widget`, first) and, when the ticket left an email
    address, into the email outbox."""

    def __init__(
        self,
        store: Store,
        texts: GatewayTexts,
        config: EmailConfig,
        widget: TicketReplyDelivery,
        sender: EmailSender,
    ) -> None:
        self.store = store
        self.texts = texts
        self.config = config
        self.widget = widget
        self.sender = sender

    async def deliver_ticket_reply(self, ticket: dict[str, Any], messages: list[Message]) -> None:
        try:
            await self.widget.deliver_ticket_reply(ticket, messages)
        finally:  # a widget failure must not keep the mail from going out
            recipient = str(ticket["contact"].get("email") or "")
            if recipient:
                subject, body = reply_content(self.texts, ticket, messages)
                email = await self.store.add_email(
                    ticket["conversation_id"],
                    recipient,
                    subject,
                    body,
                    new_message_id(self.config),
                )
                log.info("ticket %d: reply queued as email %d", ticket["ticket_id"], email.id)
                self.sender.wake()


def _retryable(exc: Exception) -> bool:
    """Whether a failed send may succeed later: the server was away or slow, or said
    "not now" (4xx). A 5xx answer (no such mailbox, refused) will not change."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= refused.code < 500 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return True


def _describe(exc: Exception) -> str:
    """The failure without the server's text, which may repeat the recipient's address."""
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    return f"{type(exc).__name__}" + (f" {code}" if isinstance(code, int) else "")


class EmailSender:
    """Sends the outbox's due mails; one per gateway process (`run` in the background)."""

    def __init__(
        self, store: Store, handoffs: Handoffs, texts: GatewayTexts, config: EmailConfig
    ) -> None:
        self.store = store
        self.handoffs = handoffs
        self.texts = texts
        self.config = config
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A mail was queued: send now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # the store is away, say: the next round tries again
                log.exception("email sender: round failed")
            with contextlib.suppress(TimeoutError):  # the poll: other replicas' rows, retries
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            self._wake.clear()

    async def send_due(self) -> int:
        """Send what is due now; returns how many were sent."""
        now = datetime.now(UTC)
        lease = now + timedelta(seconds=self.config.timeout_seconds * 4)
        sent = 0
        for email in await self.store.claim_due_emails(_stamp(now), _stamp(lease), BATCH):
            sent += await self._send(email)
        return sent

    async def _send(self, email: OutgoingEmail) -> int:
        try:
            message = build_message(self.config, email)
        except (ValueError, TypeError, HeaderParseError) as exc:
            # An address or subject no mail can carry: no retry will fix it.
            await self._give_up(email, f"unusable message ({type(exc).__name__})")
            return 0
        try:
            await aiosmtplib.send(
                message,
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username or None,
                password=self.config.password or None,
                start_tls=self.config.starttls,
                timeout=self.config.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._failed(email, exc)
            return 0
        await self.store.finish_email(email.id, None)
        log.info("email %d sent (attempt %d)", email.id, email.attempts)
        return 1

    async def _failed(self, email: OutgoingEmail, exc: Exception) -> None:
        error = _describe(exc)
        if not _retryable(exc) or email.attempts >= self.config.max_attempts:
            await self._give_up(email, error)
            return
        delay = self.config.retry_seconds * 2 ** (email.attempts - 1)
        due = _stamp(datetime.now(UTC) + timedelta(seconds=delay))
        await self.store.retry_email(email.id, error, due)
        log.warning(
            "email %d not sent (%s, attempt %d): retried in %.1f s",
            email.id,
            error,
            email.attempts,
            delay,
        )

    async def _give_up(self, email: OutgoingEmail, error: str) -> None:
        """No more tries: the address is blanked, and the agents find a note on the
        conversation in the ticket's language (the customer still has the reply in the
        widget)."""
        await self.store.finish_email(email.id, error)
        log.error("email %d given up after %d attempt(s) (%s)", email.id, email.attempts, error)
        ticket = await self.store.latest_ticket(email.conversation_id)
        language = ticket["language"] if ticket is not None else "en"
        number = ticket["ticket_id"] if ticket is not None else "?"
        await self.handoffs.add_note(
            email.conversation_id,
            NOTE_AUTHOR,
            self.texts.say("email_not_delivered", language, ticket=number),
        )
