"""English and Korean typos and Japanese typed in kana are read as the KB's words; all else is left."""

from __future__ import annotations

import pytest

from kb_index.spelling import (
    VOWELS,
    HangulReader,
    KanaReader,
    Speller,
    jamo,
    one_jamo_apart,
    sound_alike,
    syllable,
)

# How often a small KB's questions use each word (0: only its answers do).
VOCABULARY = {
    "where": 9,
    "whats": 3,
    "order": 12,
    "change": 5,
    "email": 6,
    "forgot": 4,
    "foot": 1,
    "password": 7,
    "cost": 3,
    "fees": 2,
    "match": 2,
    "refund": 5,
    "unsubscribe": 0,
    "left": 2,
    "배송": 3,
    "注文": 2,
}


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(VOCABULARY)


@pytest.mark.parametrize(
    ("text", "corrected"),
    [
        ("wheres my oder", "where my order"),  # "oder" is 1 768 times rarer than "order"
        ("how do i chnage my email", "how do i change my email"),  # two letters swapped
        ("Fogot my pasword", "forgot my password"),  # the KB's commoner word wins: not 'foot'
        ("i want a refnud", "i want a refund"),
        ("how do i unsubscrbe", "how do i unsubscribe"),  # a word only an answer uses
    ],
)
def test_typos_of_the_kbs_words_are_corrected(speller: Speller, text: str, corrected: str) -> None:
    assert speller.correct(text) == corrected


@pytest.mark.parametrize(
    "text",
    [
        "does the coat come in xl",  # 'coat' is a word, not a typo of 'cost'
        "do the tees shrink",  # 'fees' is only 21 times as common: 'tees' is a word
        "help with my math homework",  # nor 'math' of 'match'
        "ord status",  # too short to tell
        "thats all",  # one edit from 'whats', but people rarely mistype the first letter
        "didnt get my refund",  # no typo
        "i havn't got it",  # contractions are left as typed
        "track my zzqx package",  # nothing of the KB's is one edit away
        "my lyft driver charged me",  # a company's name (brand_names.yml), not 'left'
    ],
)
def test_real_words_and_unknown_words_are_left(speller: Speller, text: str) -> None:
    assert speller.correct(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "배송 언제와요 oder 확인",  # Korean: Latin words inside are left too
        "注文のoderはどこ",
    ],
)
def test_korean_and_japanese_are_left(speller: Speller, text: str) -> None:
    assert speller.correct(text) == text


def test_a_kb_with_no_english_words_changes_nothing() -> None:
    assert Speller({"배송": 1}).correct("wheres my oder") == "wheres my oder"


# A small KB's Japanese questions: where the reader learns how its words are read.
JAPANESE_QUESTIONS = [
    "返品したいです",
    "返金はいつですか",
    "注文をキャンセルしたい",
    "パスワードを忘れました",
    "3日以内に届きますか",
]


@pytest.fixture(scope="module")
def kana_reader() -> KanaReader:
    return KanaReader(JAPANESE_QUESTIONS)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("へんぴんしたいです", "返品したいです"),
        ("へんきんまだ？", "返金まだ？"),
        ("ちゅうもんをきゃんせるしたい", "注文をキャンセルしたい"),  # katakana words too
        ("ぱすわーどわすれた", "パスワードわすれた"),  # わすれ: too short a reading to trust
        ("返品はへんきんになりますか", "返品は返金になりますか"),  # one word left unconverted
    ],
)
def test_japanese_typed_in_kana_reads_as_the_kbs_words(
    kana_reader: KanaReader, text: str, read: str
) -> None:
    assert kana_reader.correct(text) == read


@pytest.mark.parametrize(
    "text",
    [
        "夜しか家にいない",  # いない is not 以内 (イナイ): three kana are too few to tell
        "ありがとうございます",
        "よろしくおねがいします",
        "返品したいです",  # already in kanji
        "wheres my oder",
        "반품하고 싶어요",
    ],
)
def test_ordinary_kana_and_other_languages_are_left(kana_reader: KanaReader, text: str) -> None:
    assert kana_reader.correct(text) == text


def test_a_kb_with_no_japanese_questions_changes_nothing() -> None:
    assert KanaReader([]).correct("へんぴんしたいです") == "へんぴんしたいです"


# A small KB's Korean questions: the words the reader corrects toward.
KOREAN_QUESTIONS = [
    "반품 신청 어떻게 해요",
    "환불은 언제 되나요",
    "배송비 얼마예요",
    "배송지 바꾸고 싶어요",
    "무료배송 기준이 뭐예요",
    "상품권 잔액 확인",
    "적립금 유효기간",
    "비밀번호를 잊어버렸어요",
    "주문 전체 취소",
    "포인트 추가 적립",
    "결제 수단 뭐 있어요",
]


@pytest.fixture(scope="module")
def hangul_reader() -> HangulReader:
    return HangulReader(KOREAN_QUESTIONS)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("반픔 신청하고 싶어요", "반품 신청하고 싶어요"),  # a key slipped (ㅜ -> ㅡ)
        ("화불 해주세요", "환불 해주세요"),  # a final consonant dropped
        ("배송바 얼마에요", "배송비 얼마에요"),  # Kiwi splits it into two known words
        ("산품권 잔액 보고싶어요", "상품권 잔액 보고싶어요"),
        ("적림금 언제 쌓여요", "적립금 언제 쌓여요"),
        ("비밀번흐 까먹었어요", "비밀번호 까먹었어요"),
        ("환불 언재 되요", "환불 언제 되요"),  # spelt by sound: Kiwi's typo model
        ("결재가 안돼요", "결제가 안돼요"),  # a word of its own, but spoken like the KB's
    ],
)
def test_korean_typos_read_as_the_kbs_words(
    hangul_reader: HangulReader, text: str, read: str
) -> None:
    assert hangul_reader.correct(text) == read


@pytest.mark.parametrize(
    "text",
    [
        "유료배송인가요",  # 유료 "paid" is a word of its own, not the KB's 무료 "free"
        "배송지 변경",  # the KB's word, though one jamo from 배송비
        "금요일 전에 받을 수 있어요?",  # 전에 is 전 + a particle, not the KB's 전체
        "어제 야구 누가 이겼어",  # 누가 is a pronoun + particle, not 추가
        "3개 시켰는데 2개만 왔어요",
        "수료증 발급돼요?",  # a word Kiwi knows, not a typo of anything the KB says
        "where is my banpum",
        "へんぴんしたい",
    ],
)
def test_korean_words_and_other_languages_are_left(hangul_reader: HangulReader, text: str) -> None:
    assert hangul_reader.correct(text) == text


def test_a_kb_with_no_korean_questions_changes_nothing() -> None:
    assert HangulReader([]).correct("반픔 신청") == "반픔 신청"


@pytest.mark.parametrize(
    ("typed", "word", "apart"),
    [
        ("반픔", "반품", True),  # vowel
        ("화불", "환불", True),  # final consonant
        ("배송바", "배송비", True),
        ("반품", "반품", False),  # the same word
        ("바품", "반품신청", False),  # lengths differ
        ("빈픔", "반품", False),  # two syllables differ
        ("뱐품", "반품", True),
        ("햔품", "반품", False),  # two jamo of one syllable differ
    ],
)
def test_one_jamo_apart(typed: str, word: str, apart: bool) -> None:
    assert one_jamo_apart(typed, word) is apart


@pytest.mark.parametrize(
    ("typed", "word", "alike"),
    [
        ("결재", "결제", True),  # ㅐ / ㅔ
        ("돼요", "되요", True),  # ㅙ / ㅚ
        ("채용", "내용", False),  # the initial differs, not the vowel
        ("반픔", "반품", False),  # ㅡ / ㅜ: a slipped key, not a sound
        ("결재", "결재", False),
    ],
)
def test_sound_alike(typed: str, word: str, alike: bool) -> None:
    assert sound_alike(typed, word) is alike


def test_a_long_message_is_read_to_its_end(hangul_reader: HangulReader) -> None:
    """Runs are cut at the KB's longest word, so a message as long as the widget allows
    is still read whole: the typo at its end is corrected."""
    text = "상품권잔액" * 390 + " 반픔 신청"
    assert hangul_reader.correct(text) == "상품권잔액" * 390 + " 반품 신청"


def test_a_syllable_splits_into_its_jamo_and_back() -> None:
    initial, vowel, final = jamo("품")
    assert VOWELS[vowel] == "ㅜ" and final != 0
    assert syllable(initial, VOWELS.index("ㅡ"), final) == "픔"
    for text in ("가", "힣", "반품", "결제"):
        assert "".join(syllable(*jamo(ch)) for ch in text) == text
