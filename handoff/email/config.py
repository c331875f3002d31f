"""The email channel's settings, checked once at start (stack/settings.py has them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path

from stack.settings import Settings


class EmailSettingsError(ValueError):
    """Email is on (smtp_host set) but a setting it needs is missing or malformed."""


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int
    starttls: bool
    username: str
    password: str = field(repr=False)
    timeout_seconds: float
    sender: str  # the From header, e.g. "Support <support@example.com>"
    reply_local: str  # "support" of support@reply.example.com
    reply_domain: str  # "reply.example.com"
    secret: str = field(repr=False)  # inbound bearer secret; reply tokens' key derives from it
    max_inbound_bytes: int
    retry_seconds: float
    max_attempts: int
    poll_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailConfig | None:
        """None while email is off (no smtp_host); EmailSettingsError when it is on but
        incomplete, so a misconfigured gateway says so at start, not at the first reply."""
        if not settings.smtp_host:
            return None
        missing = [
            f"ASSISTANT_{name.upper()}"
            for name in ("email_from", "email_reply_address", "inbound_email_secret")
            if not getattr(settings, name)
        ]
        if missing:
            raise EmailSettingsError(
                f"email is on (ASSISTANT_SMTP_HOST is set) but {', '.join(missing)} "
                "is not: set it, or unset ASSISTANT_SMTP_HOST to answer tickets in the widget only"
            )
        _, reply = parseaddr(settings.email_reply_address)
        local, at, domain = reply.rpartition("@")
        if not at or not local or not domain or "+" in local:
            raise EmailSettingsError(
                "ASSISTANT_EMAIL_REPLY_ADDRESS must be a plain address like "
                "support@reply.example.com (no '+': the gateway adds +<token>)"
            )
        if not parseaddr(settings.email_from)[1]:
            raise EmailSettingsError("ASSISTANT_EMAIL_FROM must hold an email address")
        password = settings.smtp_password
        if settings.smtp_password_file:
            try:
                password = Path(settings.smtp_password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise EmailSettingsError(
                    f"ASSISTANT_SMTP_PASSWORD_FILE cannot be read ({exc.strerror})"
                ) from exc
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=password,
            timeout_seconds=settings.smtp_timeout_seconds,
            sender=settings.email_from,
            reply_local=local,
            reply_domain=domain.lower(),
            secret=settings.inbound_email_secret,
            max_inbound_bytes=settings.inbound_email_max_bytes,
            retry_seconds=settings.email_retry_seconds,
            max_attempts=max(1, settings.email_max_attempts),
            poll_seconds=settings.email_poll_seconds,
        )

    def reply_address(self, token: str) -> str:
        """Where a customer's reply to a conversation's mail goes: local+token@domain."""
        return str(Address(addr_spec=f"{self.reply_local}+{token}@{self.reply_domain}"))
