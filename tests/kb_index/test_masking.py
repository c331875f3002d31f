"""Identifiers are masked before ranking; meaningful short numbers are kept."""

from __future__ import annotations

import pytest

from common.pii import redact
from kb_index.masking import ShopNames, mask_identifiers, mask_question


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("카드 4111 1111 1111 1111 로 결제했고 환불 되나요?", "카드 로 결제했고 환불 되나요?"),
        ("주문번호 B-7732 언제 와요", "주문번호 언제 와요"),
        ("010-1234-5678로 연락주세요", "로 연락주세요"),
        ("注文番号はA123456です。いつ届く？", "注文番号は です。いつ届く？"),
        ("電話は090-1234-5678です", "電話は です"),
        ("my email is kim.j+1@mail.co.kr, order #12345 late", "my email is , order late"),
        ("call me on +44 20 7946 0958 about order ORD12345", "call me on about order"),
        ("see https://shop.example/a?b=1 pls", "see pls"),
    ],
)
def test_identifiers_are_masked(text: str, masked: str) -> None:
    assert mask_identifiers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "12개월로 나눠서 결제 가능?",
        "3日以内に届きますか",
        "got 10% off with a code",
        "2 items missing",
    ],
)
def test_short_numbers_carry_meaning_and_stay(text: str) -> None:
    assert mask_identifiers(text) == text


def test_a_message_that_is_only_a_number_is_kept() -> None:
    assert mask_identifiers("4111111111111111") == "4111111111111111"


@pytest.mark.parametrize(
    "text",
    [
        "카드 4111 1111 1111 1111 로 결제했고 환불 되나요?",
        "주민번호 900101-1234567 로 본인확인 했는데 010-1234-5678 로 연락 주세요",
        "マイナンバーは123456789018です。メールは taro@example.jp",
        "call me at +1 415 555 0100 about my refund",
    ],
)
def test_what_the_gateway_redacted_reads_like_the_original(text: str) -> None:
    """The bot gets redacted text (common/pii.py); its placeholders weigh nothing either."""
    assert mask_identifiers(redact(text)) == mask_identifiers(text)


SHOP = ShopNames(["마루 스토어", "マル ストア", "Maru Store"])


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("마루스토어에서 산 옷 반품", "쇼핑몰에서 산 옷 반품"),  # a space matches none too
        ("마루 스토어 비번", "쇼핑몰 비번"),
        ("マルストアで買った服を返品したい", "ショップで買った服を返品したい"),
        ("i bought it from MARU STORE", "i bought it from the shop"),
        ("maru-store wont take my card", "the shop wont take my card"),
        ("marustore app", "the shop app"),
        ("maru store에서 샀어요", "the shop에서 샀어요"),  # the name's language, not the text's
    ],
)
def test_the_shops_own_names_read_as_a_plain_shop(text: str, plain: str) -> None:
    assert SHOP(text) == plain


@pytest.mark.parametrize(
    "text",
    ["marustores rock", "maru points", "마루포인트 뭐예요", "supermaru store"],
)
def test_other_words_are_not_a_shop_name(text: str) -> None:
    assert SHOP(text) == text


def test_no_names_change_nothing() -> None:
    assert ShopNames()("마루스토어에서 산 옷") == "마루스토어에서 산 옷"


def test_a_question_is_masked_of_identifiers_and_names_alike() -> None:
    masked = mask_question("maru store charged card 4111 1111 1111 1111 twice", SHOP)
    assert masked == "the shop charged card twice"
