"""A customer's emailed reply: from the raw RFC 822 message to the text to store.

`parse_reply` finds the reply token in the recipient headers (`<local>+<token>@<domain>`
in To, Cc, Delivered-To, X-Original-To), verifies it (tokens.py), and takes the text the
customer wrote: the text/plain part (else the text/html part, stripped to text), decoded
from its charset, with the quoted earlier mail cut off. Every problem is an
InboundRefused with a machine-readable code (the route's 4xx).
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses

from handoff.email.tokens import verify_token

RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# Charset names mail programs use that Python's codecs do not know (Korean Outlook's
# "ks_c_5601-1987" is Windows' cp949, a superset of EUC-KR; likewise for the others).
CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-windows-949": "cp949",
    "windows-31j": "cp932",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# A line that starts the quoted earlier mail: everything from it on is cut.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{1,300}wrote:\s*$"),  # Gmail, Apple Mail, Thunderbird (en)
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),  # Outlook
    re.compile(r"^\s*-{2,}\s*원본 메시지\s*-{2,}\s*$"),  # Outlook (ko)
    re.compile(r"^\s*-{2,}\s*元のメッセージ\s*-{2,}\s*$"),  # Outlook (ja)
    re.compile(r"^\s*(From|보낸 사람|差出人)\s*:\s.+$"),  # Outlook's header block of the quote
    re.compile(r"^.{1,300}(さんは書きました|のメッセージ|のメール)\s*[:：]\s*$"),  # ja mailers
    re.compile(r"^.{1,300}님이 작성(했습니다)?\s*[:：]\s*$"),  # Gmail (ko)
    re.compile(r"^.{1,300}<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$"),  # Gmail (ja): "<date> Name <addr>:"
]


class InboundRefused(ValueError):
    """A mail the endpoint will not take; `code` is machine-readable, `status` the HTTP one."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class InboundReply:
    conversation_id: str
    text: str
    message_id: str  # the mail's own Message-ID ('' without one): a resend is stored once
    sender: str  # the From address: never logged


def parse_reply(raw: bytes, secret: str) -> InboundReply:
    """The verified conversation and the new text of a customer's reply, or InboundRefused."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is a defect it could not pass
        raise InboundRefused("malformed_email", "the body is not an RFC 822 message") from exc
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise InboundRefused("malformed_email", "the body is not an RFC 822 message")
    conversation_id = _conversation(message, secret)
    # A NUL is a character, but PostgreSQL's text cannot hold one (as for chat: http.py).
    text = _cut_quoted(_body_text(message)).replace("\x00", "\ufffd").strip()
    if not text:
        raise InboundRefused("empty_email", "the mail holds no new text")
    try:
        sender = getaddresses([str(message.get("From", ""))])[0][1]
        message_id = str(message.get("Message-ID", "")).strip()
    except Exception:  # a header the policy cannot parse: not needed to store the reply
        sender, message_id = "", ""
    return InboundReply(conversation_id, text, message_id[:998], sender)


def _conversation(message: EmailMessage, secret: str) -> str:
    tokens: list[str] = []
    for header in RECIPIENT_HEADERS:
        try:
            values = [str(value) for value in message.get_all(header, [])]
        except Exception:  # an unparseable address header: try the others
            continue
        for _, address in getaddresses(values):
            local = address.rpartition("@")[0]
            if "+" in local:
                tokens.append(local.split("+", 1)[1])
    if not tokens:
        raise InboundRefused("no_reply_token", "no recipient address holds a reply token")
    for token in tokens:
        conversation_id = verify_token(secret, token)
        if conversation_id is not None:
            return conversation_id
    raise InboundRefused("bad_reply_token", "the reply token is not valid", status=403)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _decoded(part)
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(_decoded(part))
    raise InboundRefused("no_text", "the mail has no text/plain or text/html part")


def _decoded(part: MIMEPart) -> str:
    """The part's text, from its transfer encoding and charset (aliases mapped)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "us-ascii").lower()
    codec = CHARSET_ALIASES.get(charset, charset)
    try:
        codecs.lookup(codec)
    except LookupError:
        codec = "utf-8"  # an unknown label: the likeliest, with replacement characters
    return payload.decode(codec, errors="replace")


_BLOCKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
_DROPPED = re.compile(
    r"<\s*(script|style|head|blockquote)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAGS = re.compile(r"<[^>]*>")


def html_to_text(markup: str) -> str:
    """Text of an HTML mail: quoted mail (<blockquote>), scripts and styles dropped,
    line breaks kept, entities decoded. For storing as a chat line, not for display."""
    text = _DROPPED.sub("", markup)
    text = _BLOCKS.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    return "\n".join(line.strip() for line in text.splitlines())


def _cut_quoted(text: str) -> str:
    """The new text only: up to the first line that opens the quoted earlier mail, and
    without `>` lines."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(pattern.match(line) for pattern in _QUOTE_HEADERS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    joined = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", joined)
