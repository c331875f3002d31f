"""Personal data is found the way customers type it in ko / ja / en, and only that."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest

from common.language import detect_language
from common.pii import (
    PLACEHOLDER,
    RedactingFilter,
    find_emails,
    find_phones,
    install_log_redaction,
    is_card_number,
    mask_secrets,
    redact,
    redact_contacts,
    redact_strings,
)

# -- cards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "카드 4111-1111-1111-1111 로 결제했는데 환불돼요?",
            "카드 ****-****-****-1111 로 결제했는데 환불돼요?",
        ),
        ("카드번호4111111111111111로 결제했어요", "카드번호****-****-****-1111로 결제했어요"),
        (
            "カード番号は5555 5555 5555 4444です。返金できますか",
            "カード番号は****-****-****-4444です。返金できますか",
        ),
        (
            "my card 4242 4242 4242 4242 was charged twice",
            "my card ****-****-****-4242 was charged twice",
        ),
        ("amex 3782 822463 10005 declined", "amex ****-****-****-0005 declined"),  # 15 digits
        ("4111111111111111 12/27 cvc 123", "****-****-****-1111 12/27 cvc 123"),
        ("JCB 3530111333300000 です", "JCB ****-****-****-0000 です"),
    ],
)
def test_card_numbers_keep_only_their_last_four_digits(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
    assert "[" not in masked  # symbols only: see test_placeholders_do_not_change_the_language


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 never arrived",  # 16 digits failing the Luhn check
        "주문번호 1234567812345678 배송 언제 와요",  # fails Luhn too
        "注文番号 ORD4111111111111111 の件",  # part of an id
        "request 3f2a9c10-4111-4111-1111-111111111111",  # inside a UUID
        "2026-12-04 에 59,000원 결제했어요",
        "¥12,800 で 3 個買いました",
        "invoice 2026120400012 total $1,299.00",
    ],
)
def test_other_numbers_are_not_cards(text: str) -> None:
    assert mask_secrets(text) == text


def test_a_card_check_is_luhn_over_13_to_19_digits() -> None:
    assert is_card_number("4111 1111 1111 1111")
    assert is_card_number("4111-1111-1111-1111")
    assert not is_card_number("4111 1111 1111 1112")
    assert not is_card_number("4111 1111 11")  # too short, though Luhn-valid
    assert not is_card_number("12345678903")


# -- national ids --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("주민번호는 900101-1234567 입니다", "주민번호는 ******-******* 입니다"),
        # issued since October 2020: no check digit, so written ones are masked on the date
        ("아이 주민등록번호 210315-4123456 이에요", "아이 주민등록번호 ******-******* 이에요"),
        (
            "RRN 900101-1234567, card 4111 1111 1111 1111",
            "RRN ******-*******, card ****-****-****-1111",
        ),
        (
            "주민번호 8001011234560 로 조회",
            "주민번호 ******-******* 로 조회",
        ),  # bare, valid check digit
        ("マイナンバーは123456789018です", "マイナンバーは****-****-****です"),
        ("個人番号 6214 9832 0257 を登録", "個人番号 ****-****-**** を登録"),
        ("my number 6214-9832-0257", "my number ****-****-****"),
    ],
)
def test_national_ids_are_masked_whole(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 901301-1234567",  # month 13: not a date, so not an RRN
        "주문번호 9001011234567 확인 부탁",  # bare 13 digits with a wrong check digit
        "注文番号 123456789012 です",  # 12 digits, wrong My Number check digit
        "6214 9832 0258",
    ],
)
def test_numbers_like_national_ids_but_not_them_stay(text: str) -> None:
    assert mask_secrets(text) == text


def test_secrets_masking_leaves_contact_details_alone() -> None:
    text = "kim@example.com 010-1234-5678 +81 90-1234-5678"
    assert mask_secrets(text) == text


# -- emails and phones ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("제 메일은 minsu.kim+shop@example.co.kr 이에요", "제 메일은 ***@*** 이에요"),
        ("kim@mail.com으로 연락 주세요", "***@***으로 연락 주세요"),
        ("メールはtaro.yamada@example.co.jpです", "メールは***@***です"),
        ("reach me at sam_o'neil@example.com.", "reach me at ***@***."),
        ("010-1234-5678로 연락주세요", "***-****-****로 연락주세요"),
        ("폰번호 01012345678 입니다", "폰번호 ***-****-**** 입니다"),
        ("+82 10 1234 5678 로 전화 주세요", "***-****-**** 로 전화 주세요"),
        ("電話は090-1234-5678です", "電話は***-****-****です"),
        ("連絡先: +81 90 1234 5678", "連絡先: ***-****-****"),
        ("call me at +1 415 555 0100", "call me at ***-****-****"),
        ("call me at (415) 555-0100 after 6", "call me at ***-****-**** after 6"),
        ("UK office +44 20 7946 0958", "UK office ***-****-****"),
    ],
)
def test_contact_details_are_redacted(text: str, redacted: str) -> None:
    assert redact_contacts(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 B-7732 언제 와요",
        "order 123456789 is late",
        "2026-12-04 10:30 에 주문했어요",
        "2026/12/04 に注文しました",
        "₩1,200,000 결제됐어요",
        "got 10% off, paid $59.99",
        "conversation 3f2a9c10-1234-4567-8910-123456789012",
        "score 0.81234567 margin 0.3000",
        "see https://shop.example/orders/12345",
    ],
)
def test_other_text_is_not_a_contact(text: str) -> None:
    assert redact_contacts(text) == text


def test_contacts_are_found_as_written() -> None:
    text = "메일 kim@mail.com 이나 010-1234-5678 로, 안되면 +81 90-1234-5678"
    assert find_emails(text) == ["kim@mail.com"]
    assert find_phones(text) == ["010-1234-5678", "+81 90-1234-5678"]


def test_no_uuid_is_taken_for_personal_data() -> None:
    ids = [
        str(uuid.UUID(int=n * 0x9E3779B97F4A7C15F39CC0605CEDC835 % 2**128)) for n in range(1, 3000)
    ]
    assert [i for i in ids if redact(i) != i] == []


# -- everything ----------------------------------------------------------------------


def test_redact_takes_everything_personal_out() -> None:
    text = "card 4111 1111 1111 1111 RRN 900101-1234567 mail a@b.co tel 010-1234-5678"
    assert (
        redact(text) == "card ****-****-****-1111 RRN ******-******* mail ***@*** tel ***-****-****"
    )


def test_redact_strings_walks_json() -> None:
    value = {"summary": "a@b.co", "lines": ["010-1234-5678", {"n": 3}], "seq": 4, "ok": None}
    assert redact_strings(value) == {
        "summary": "***@***",
        "lines": ["***-****-****", {"n": 3}],
        "seq": 4,
        "ok": None,
    }


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("4111 1111 1111 1111", None),
        ("010-1234-5678", None),
        ("카드 4111-1111-1111-1111 로 결제", "ko"),
        ("マイナンバーは123456789018です", "ja"),
    ],
)
def test_placeholders_do_not_change_the_language(text: str, language: str | None) -> None:
    """A bare number in a Korean chat must not turn it English once redacted."""
    assert detect_language(redact(text)) == detect_language(text) == language


def test_placeholders_are_recognisable() -> None:
    redacted = redact("a@b.co 010-1234-5678 4111111111111111 900101-1234567 123456789018")
    assert PLACEHOLDER.sub("", redacted).split() == []


# -- logs ----------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.pii")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def test_the_log_filter_redacts_messages_and_arguments(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured
    logger.info(
        "kb query=%r %s",
        "카드 4111 1111 1111 1111 RRN 900101-1234567 kim@mail.com",
        "top=0.8123",
    )
    logger.info("call %s", "+1 415 555 0100")
    assert out.getvalue().splitlines() == [
        "kb query='카드 ****-****-****-1111 RRN ******-******* ***@***' top=0.8123",
        "call ***-****-****",
    ]


def test_the_log_filter_redacts_tracebacks(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = captured
    try:
        raise ValueError("bad text: 010-1234-5678 / 4111-1111-1111-1111")
    except ValueError:
        logger.exception("could not handle a customer frame")
    logged = out.getvalue()
    assert "ValueError: bad text: ***-****-**** / ****-****-****-1111" in logged
    assert "1234-5678" not in logged and "4111-1111-1111-1111" not in logged


def test_installed_redaction_covers_every_logger_and_handler() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)  # no filter of its own: added later, by a library
    logger = logging.getLogger("tests.pii.anywhere")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    previous = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        install_log_redaction()  # idempotent
        logger.warning("customer said %s", "マイナンバーは123456789018です、090-1234-5678")
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
        for root_handler in logging.getLogger().handlers:
            for added in [f for f in root_handler.filters if isinstance(f, RedactingFilter)]:
                root_handler.removeFilter(added)
    assert out.getvalue() == "customer said マイナンバーは****-****-****です、***-****-****\n"


def test_a_record_rebuilt_from_a_dict_is_redacted_by_the_filter() -> None:
    """Records that come from elsewhere (a socket handler, a queue) skip the factory."""
    previous = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        record = logging.makeLogRecord({"msg": "card %s", "args": ("4111 1111 1111 1111",)})
    finally:
        logging.setLogRecordFactory(previous)
        for root_handler in logging.getLogger().handlers:
            for added in [f for f in root_handler.filters if isinstance(f, RedactingFilter)]:
                root_handler.removeFilter(added)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "card ****-****-****-1111"
