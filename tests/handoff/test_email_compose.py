"""A ticket reply as an email: texts per language, the Reply-To token, threading headers,
and the settings that turn email on."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from handoff.conversation.models import Message
from handoff.customer.texts import load_texts
from handoff.email.compose import build_message, new_message_id, reply_content
from handoff.email.config import EmailConfig, EmailSettingsError
from handoff.email.model import OutgoingEmail
from handoff.email.tokens import make_token, verify_token
from stack.settings import Settings

TEXTS = load_texts(Settings().gateway_texts_path)
CID = "0b0e4c1e-6a7e-4a3c-9d55-0f3f9e1c2b7a"
SETTINGS = Settings(
    smtp_host="127.0.0.1",
    email_from="Support <support@example.com>",
    email_reply_address="help@reply.example.com",
    inbound_email_secret="s3cret-for-tests",
)
CONFIG = EmailConfig.from_settings(SETTINGS)
assert CONFIG is not None

SUBJECTS = {
    "ko": "[문의 #7] 답변 드립니다",
    "ja": "【お問い合わせ #7】ご回答",
    "en": "[Ticket #7] Our answer to your message",
}
GREETINGS = {"ko": "안녕하세요.", "ja": "お問い合わせいただき", "en": "Hello, an agent"}
REPLIES = {
    "ko": "환불은 3영업일 안에 처리됩니다.",
    "ja": "返金は3営業日以内に処理されます。",
    "en": "Your refund will be processed within 3 business days.",
}


def _stored(text: str) -> list[Message]:
    return [
        Message(CID, 4, "system", "notice", "2026-12-06T01:00:00.000Z"),
        Message(CID, 5, "agent", text, "2026-12-06T01:00:00.000Z"),
    ]


def _outgoing(subject: str, body: str, thread: tuple[str, ...] = ()) -> OutgoingEmail:
    return OutgoingEmail(
        id=1,
        conversation_id=CID,
        recipient="민아 <mina@example.com>",
        subject=subject,
        body=body,
        message_id="<abc@reply.example.com>",
        thread=thread,
        attempts=1,
        next_attempt_at="",
        sent_at=None,
        failed_at=None,
        last_error=None,
        created_at="",
    )


def _sent(message: EmailMessage) -> EmailMessage:
    """The message as a mail client reads it: bytes on the wire, parsed back."""
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_a_reply_is_written_in_the_tickets_language(language: str) -> None:
    assert CONFIG is not None
    ticket = {"ticket_id": 7, "language": language, "conversation_id": CID}
    subject, body = reply_content(TEXTS, ticket, _stored(REPLIES[language]))
    assert subject == SUBJECTS[language]
    assert body.startswith(GREETINGS[language])
    assert REPLIES[language] in body and "notice" not in body  # the agent's text, not the line
    assert TEXTS.say("email_footer", language) in body
    mail = _sent(build_message(CONFIG, _outgoing(subject, body)))
    assert mail["Subject"] == SUBJECTS[language]  # encoded on the wire, read back whole
    assert mail.get_content_charset() == "utf-8"
    assert REPLIES[language] in mail.get_content()


def test_headers_carry_the_reply_token_and_thread_the_conversation() -> None:
    assert CONFIG is not None
    mail = _sent(build_message(CONFIG, _outgoing("s", "b", ("<m1@x>", "<m2@x>"))))
    assert mail["From"] == "Support <support@example.com>"
    assert mail["To"].addresses[0].addr_spec == "mina@example.com"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to == f"help+{make_token('s3cret-for-tests', CID)}@reply.example.com"
    token = reply_to.split("+", 1)[1].split("@")[0]
    assert verify_token("s3cret-for-tests", token) == CID
    assert mail["Message-ID"] == "<abc@reply.example.com>"
    assert mail["In-Reply-To"] == "<m2@x>" and mail["References"] == "<m1@x> <m2@x>"
    assert mail["Auto-Submitted"] == "auto-replied"
    first = _sent(build_message(CONFIG, _outgoing("s", "b")))
    assert first["In-Reply-To"] is None and first["References"] is None
    assert new_message_id(CONFIG).endswith("@reply.example.com>")


def test_a_token_opens_only_its_own_conversation() -> None:
    token = make_token("secret", CID)
    assert verify_token("secret", token) == CID
    assert verify_token("secret", token.upper()) == CID  # a mail system that upper-cases
    assert verify_token("other secret", token) is None
    other = "1b0e4c1e-6a7e-4a3c-9d55-0f3f9e1c2b7a"
    assert verify_token("secret", other + token[len(CID) :]) is None  # moved to another chat
    assert verify_token("secret", token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    for broken in ("", CID, "x" * 300, f"{CID}.", f"{CID}.zz", "../etc.0123456789abcdef0123"):
        assert verify_token("secret", broken) is None


def test_email_is_off_without_a_host_and_refuses_to_start_half_set(tmp_path: Path) -> None:
    assert EmailConfig.from_settings(Settings()) is None
    with pytest.raises(EmailSettingsError, match="ASSISTANT_INBOUND_EMAIL_SECRET"):
        EmailConfig.from_settings(SETTINGS.replace(inbound_email_secret=""))
    with pytest.raises(EmailSettingsError, match="no '\\+'"):
        EmailConfig.from_settings(SETTINGS.replace(email_reply_address="a+b@example.com"))
    with pytest.raises(EmailSettingsError, match="cannot be read"):
        EmailConfig.from_settings(SETTINGS.replace(smtp_password_file=str(tmp_path / "none")))
    secret = tmp_path / "smtp-password"
    secret.write_text("pa55word\n", encoding="utf-8")
    config = EmailConfig.from_settings(SETTINGS.replace(smtp_password_file=str(secret)))
    assert config is not None and config.password == "pa55word"
    assert "pa55word" not in repr(config) and "s3cret" not in repr(config)
    assert "s3cret" not in repr(SETTINGS)


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "ASSISTANT_SMTP_HOST": "mail.example.com",
            "ASSISTANT_SMTP_PORT": "587",
            "ASSISTANT_SMTP_STARTTLS": "true",
            "ASSISTANT_EMAIL_FROM": "Support <support@example.com>",
            "ASSISTANT_EMAIL_REPLY_ADDRESS": "support@reply.example.com",
            "ASSISTANT_INBOUND_EMAIL_SECRET": "x",
        }
    )
    config = EmailConfig.from_settings(settings)
    assert config is not None
    assert (config.host, config.port, config.starttls) == ("mail.example.com", 587, True)
    assert (config.reply_local, config.reply_domain) == ("support", "reply.example.com")
