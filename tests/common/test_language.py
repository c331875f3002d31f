import pytest

from common.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("안녕하세요", "ko"),
        ("배송언제와요?", "ko"),
        ("ㅎㅇ", "ko"),
        ("ㄱㅅ", "ko"),
        ("배송 tracking 번호 알려주세요", "ko"),
        ("こんにちは", "ja"),
        ("パスワード忘れた", "ja"),
        ("配送料金", "ja"),  # kanji only: Japanese, not Chinese or Korean
        ("Mサイズありますか", "ja"),
        ("hello there", "en"),
        ("where is my order", "en"),
        ("helo", "en"),
        ("refund?", "en"),
        # too short or no letters: keep whatever language the conversation had
        ("ok", None),
        ("hi", None),
        ("thx", None),
        ("???", None),
        ("12345", None),
        ("👍", None),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_korean_wins_over_a_few_latin_letters() -> None:
    assert detect_language("iPhone 케이스 환불 가능해요?") == "ko"
