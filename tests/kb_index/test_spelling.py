"""English typos of the KB's words are read as those words; everything else is left."""

from __future__ import annotations

import pytest

from kb_index.spelling import Speller

# How often a small KB's questions use each word (0: only its answers do).
VOCABULARY = {
    "where": 9,
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
        "didnt get my refund",  # no typo
        "i havn't got it",  # contractions are left as typed
        "track my zzqx package",  # nothing of the KB's is one edit away
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
