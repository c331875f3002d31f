"""A customer's emailed reply, parsed: the token found and verified, the text decoded
from the charsets Korean and Japanese mailers use, the quoted earlier mail cut off."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from handoff.email.channel import MAX_PARTS, split_text
from handoff.email.inbound import InboundRefused, html_to_text, parse_reply
from handoff.email.tokens import make_token

SECRET = "inbound-secret-for-tests"
CID = "0b0e4c1e-6a7e-4a3c-9d55-0f3f9e1c2b7a"
TO = f"Support <help+{make_token(SECRET, CID)}@reply.example.com>"

NEW = {
    "ja": "ありがとうございます。口座番号はまだ届いていません。",
    "ko": "감사합니다. 환불 계좌를 다시 확인해 주세요.",
    "en": "Thanks. The refund has not arrived yet.",
}
QUOTED = {
    "ja": "2026年12月6日(日) 10:00 サポート さんは書きました:\n> 返金は3営業日以内です。",
    "ko": "2026년 12월 6일 (일) 오전 10:00, Support <help@reply.example.com>님이 작성:\n> 환불은 3일",
    "en": "On Sun, Dec 6, 2026 at 10:00 AM Support <help@reply.example.com> wrote:\n> Refunds",
}


def _raw(body: str, charset: str, to: str = TO, **headers: str) -> bytes:
    message = MIMEText(body, "plain", charset)
    message["From"] = "Customer <customer@example.net>"
    message["To"] = to
    message["Subject"] = "Re: ticket"
    message["Message-ID"] = "<reply-1@example.net>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()


@pytest.mark.parametrize(
    ("language", "charset"),
    [("ja", "iso-2022-jp"), ("ko", "euc-kr"), ("en", "utf-8"), ("ja", "utf-8")],
)
def test_a_reply_in_its_mailers_charset_keeps_only_the_new_text(
    language: str, charset: str
) -> None:
    raw = _raw(f"{NEW[language]}\n\n{QUOTED[language]}\n", charset)
    if charset == "iso-2022-jp":
        assert b"\x1b$B" in raw  # really JIS on the wire, not UTF-8
    reply = parse_reply(raw, SECRET)
    assert reply.conversation_id == CID
    assert reply.text == NEW[language]
    assert reply.sender == "customer@example.net"
    assert reply.message_id == "<reply-1@example.net>"


def test_korean_outlooks_charset_name_is_understood() -> None:
    """Korean Outlook labels its mail ks_c_5601-1987 (Windows' cp949)."""
    text = "똠방각하 환불 문의드립니다"  # 똠: in cp949, not in plain EUC-KR
    raw = (
        f"From: c@example.net\r\nTo: {TO}\r\nSubject: Re\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="ks_c_5601-1987"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(text.encode("cp949"))
    assert parse_reply(raw, SECRET).text == text


@pytest.mark.parametrize(
    "quote",
    [
        "-----Original Message-----\nFrom: Support\nSent: Sunday",
        "-----원본 메시지-----\n보낸 사람: Support",
        "From: Support <help@reply.example.com>\nSent: Sunday, December 6, 2026",
        "> quoted line one\n> quoted line two",
        "2026年12月6日(日) 10:00 Support <help@reply.example.com>:\n> 返金",
    ],
)
def test_every_quoting_style_is_cut(quote: str) -> None:
    reply = parse_reply(_raw(f"Still waiting.\n\n{quote}\n", "utf-8"), SECRET)
    assert reply.text == "Still waiting."


def test_multipart_alternative_prefers_the_plain_part() -> None:
    message = MIMEMultipart("alternative")
    message["To"] = TO
    message["From"] = "c@example.net"
    message.attach(MIMEText("plain words", "plain", "utf-8"))
    message.attach(MIMEText("<p>html words</p>", "html", "utf-8"))
    assert parse_reply(message.as_bytes(), SECRET).text == "plain words"


def test_an_html_only_mail_is_stripped_to_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>返金&amp;交換</p>"
        "<div>二行目<br>三行目</div><script>alert(1)</script>"
        "<blockquote>quoted earlier mail</blockquote></body></html>"
    )
    message = MIMEText(html, "html", "utf-8")
    message["To"] = TO
    reply = parse_reply(message.as_bytes(), SECRET)
    assert reply.text == "返金&交換\n二行目\n三行目"
    assert "alert" not in html_to_text(html) and "color" not in html_to_text(html)


def test_the_token_is_found_in_delivered_to_when_to_is_the_plain_address() -> None:
    raw = _raw(
        "hello",
        "utf-8",
        to="help@reply.example.com",
        Delivered_To=f"help+{make_token(SECRET, CID)}@reply.example.com",
    )
    assert parse_reply(raw, SECRET).conversation_id == CID


@pytest.mark.parametrize(
    ("raw", "code", "status"),
    [
        (_raw("hello", "utf-8", to="help@reply.example.com"), "no_reply_token", 422),
        (_raw("hello", "utf-8", to=f"help+{CID}.0123456789abcdef0123@x"), "bad_reply_token", 403),
        (_raw("hello", "utf-8", to=f"help+{make_token('other', CID)}@x"), "bad_reply_token", 403),
        (_raw("> only quoted\n", "utf-8"), "empty_email", 422),
        (b"\x00\xff\xfe not a mail at all", "malformed_email", 422),
        (b"", "malformed_email", 422),
    ],
)
def test_mails_that_cannot_be_used_are_refused_with_a_code(
    raw: bytes, code: str, status: int
) -> None:
    with pytest.raises(InboundRefused) as refused:
        parse_reply(raw, SECRET)
    assert (refused.value.code, refused.value.status) == (code, status)


def test_a_mail_without_text_parts_is_refused() -> None:
    message = EmailMessage()
    message["To"] = TO
    message.set_content(b"\x89PNG...", maintype="image", subtype="png")
    with pytest.raises(InboundRefused) as refused:
        parse_reply(message.as_bytes(), SECRET)
    assert refused.value.code == "no_text"


def test_a_long_mail_is_stored_in_pieces_within_the_message_limit() -> None:
    text = "\n".join(f"line {n} " + "x" * 40 for n in range(100))
    parts = split_text(text, 500)
    assert all(0 < len(part) <= 500 for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert len(split_text("y" * 100_000, 500)) == MAX_PARTS
    assert split_text("short", 500) == ["short"]
