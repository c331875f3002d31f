"""A bot answer mailed at the customer's request ("Email me this answer" in the widget).

Only a KB answer of the bot's (a message carrying the action server's article id) is
mailed, and the mail holds only our own words: the lead line and subject from
data/gateway_texts.yml in the conversation's language, the answer as stored, and its
article links. Nothing the customer typed goes into it, so the route cannot be used to
send someone a text of one's own. It goes through the same outbox as ticket replies
(outbox.py): retried while the server is away, the address blanked once it is sent or
given up on. The address is never logged; the widget is told it masked.
"""

from __future__ import annotations

import logging

from handoff.conversation.models import Conversation, Message
from handoff.customer.texts import GatewayTexts
from handoff.email.compose import new_message_id
from handoff.email.config import EmailConfig
from handoff.email.outbox import EmailSender
from handoff.store.interface import Store

log = logging.getLogger(__name__)


def answer_content(texts: GatewayTexts, language: str, answer: Message) -> tuple[str, str]:
    """(subject, body) of the mail for a bot answer, in `language`."""
    parts = [texts.say("email_answer_lead", language), answer.text.strip()]
    links = [
        f"- {link['title']}: {link['url']}" if link.get("title") else f"- {link['url']}"
        for link in answer.links
        if link.get("url")
    ]
    if links:
        parts.append("\n".join([texts.say("email_answer_links", language), *links]))
    parts.append("-- \n" + texts.say("email_footer", language))  # "-- ": the signature line
    return texts.say("email_answer_subject", language), "\n\n".join(parts) + "\n"


def mask_address(address: str) -> str:
    """ "amy@example.com" -> "a…@example.com": enough for the customer to recognise it,
    not the address itself (what the widget shows after sending)."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


class AnswerMailer:
    """Queues a conversation's bot answer as an email (email on only)."""

    def __init__(
        self, store: Store, texts: GatewayTexts, config: EmailConfig, sender: EmailSender
    ) -> None:
        self.store = store
        self.texts = texts
        self.config = config
        self.sender = sender

    async def queue(self, conversation: Conversation, seq: int, address: str) -> bool:
        """Mail the bot answer `seq` of `conversation` to `address`; False (nothing queued)
        when the conversation has no KB answer of the bot's with that seq."""
        answer = await self.store.message(conversation.id, seq)
        if answer is None or answer.answered_article() is None:
            return False
        subject, body = answer_content(self.texts, conversation.language, answer)
        email = await self.store.add_email(
            conversation.id, address, subject, body, new_message_id(self.config)
        )
        # Ids only: never the address.
        log.info("bot answer %d queued as email %d", seq, email.id)
        self.sender.wake()
        return True
