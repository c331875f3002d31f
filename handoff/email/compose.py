"""A ticket reply as an email: texts in the ticket's language, headers that thread.

The outbox keeps a reply's subject and body (written in the customer's language when the
reply is stored) and its Message-ID; `build_message` makes the RFC 822 message at send
time, with the Reply-To that brings the customer's answer back to the same conversation
(tokens.py) and In-Reply-To / References naming the conversation's earlier mails, so
mail clients show one thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from handoff.conversation.models import Message
from handoff.customer.texts import GatewayTexts
from handoff.email.config import EmailConfig
from handoff.email.model import OutgoingEmail
from handoff.email.tokens import make_token


def reply_content(
    texts: GatewayTexts, ticket: dict[str, Any], messages: list[Message]
) -> tuple[str, str]:
    """(subject, body) of the mail for a ticket reply: `messages` are the stored reply
    (the system line, then the agent's message, card numbers and ids already masked)."""
    language = ticket["language"]
    subject = texts.say("email_subject", language, ticket=ticket["ticket_id"])
    reply = messages[-1].text
    body = "\n\n".join(
        [
            texts.say("email_greeting", language),
            reply,
            "-- \n" + texts.say("email_footer", language),  # "-- ": the signature separator
        ]
    )
    return subject, body + "\n"


def new_message_id(config: EmailConfig) -> str:
    return make_msgid(domain=config.reply_domain)


def build_message(config: EmailConfig, email: OutgoingEmail) -> EmailMessage:
    """The message to send for an outbox row (UTF-8 text; headers encoded as needed)."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Reply-To"] = config.reply_address(make_token(config.secret, email.conversation_id))
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(datetime.now(UTC))
    if email.thread:
        message["In-Reply-To"] = email.thread[-1]
        message["References"] = " ".join(email.thread)
    # Mail robots (vacation replies) should not answer a ticket reply.
    message["Auto-Submitted"] = "auto-replied"
    message.set_content(email.body, charset="utf-8")
    return message
