"""English typos and Japanese typed in kana are read as the KB's words; all else is left."""

from __future__ import annotations

import pytest

from kb_index.spelling import KanaReader, Speller

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
