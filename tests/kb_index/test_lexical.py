"""The lexical leg: content words per language, BM25 over articles, novelty, unknown names."""

from __future__ import annotations

import pytest

from kb_index.lexical import LexicalIndex, terms

KB = LexicalIndex.from_terms(
    [
        ("reset_password", terms("how do i reset my password")),
        ("reset_password", terms("비밀번호를 잊어버렸어요")),
        ("reset_password", terms("パスワードを忘れました")),
        ("shipping_time", terms("배송 언제 와요")),
        ("shipping_time", terms("いつ届きますか")),
        ("shipping_time", terms("when will my order arrive")),
    ],
    [terms("Use the reset link on the login page.")],
)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("배송언제와요", "배송 언제 와요"),  # Korean spacing does not matter
        ("届きますか", "届く？"),  # Japanese: the lemma, whatever the form
        ("Reset my PASSWORD pls", "reset password"),  # English: case and filler words
        ("ＲＥＳＥＴ password", "reset password"),  # full-width folded by NFKC
    ],
)
def test_the_same_words_give_the_same_terms(one: str, other: str) -> None:
    assert terms(one).content == terms(other).content


def test_numbers_and_particles_are_not_content() -> None:
    assert terms("12345번 주문은 언제 와요").content == ("주문", "언제", "오")
    assert "の" not in terms("注文の状況").content


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("넷플릭스 비번 까먹었어요", 1.0),  # a brand the KB never mentions
        ("ネトフリのパスワード忘れた", 1.0),
        ("ユニクロで買った", 1.0),
        ("비밀번호 잊어버렸어요", 0.0),
        ("パスワード忘れた", 0.0),
    ],
)
def test_names_the_kb_never_uses_are_flagged(text: str, names: float) -> None:
    assert KB.unknown_names(terms(text)) == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("i forgot my netflix password", ("netflix",)),
        ("my uber eats order never came", ("uber eats",)),  # the longest name wins
        ("cancel my Disney Plus", ("disney plus",)),
        ("can i pay with paypal", ()),  # payment methods are the shop's business
        ("do you ship with fedex", ()),  # so are carriers
        ("can i use my points on the next order", ()),  # "next" is a word, not the shop
        ("netflixy hoodie", ()),  # whole words only
    ],
)
def test_english_names_come_from_the_list_of_other_companies(
    text: str, names: tuple[str, ...]
) -> None:
    assert terms(text).proper == names


def test_a_company_the_kb_names_is_not_unknown() -> None:
    """A shop that sells on amazon says so in its KB: then amazon is one of its words."""
    kb = LexicalIndex.from_terms(
        [("marketplaces", terms("do you sell on amazon"))], [terms("Yes, on amazon too.")]
    )
    assert kb.unknown_names(terms("is your amazon store official")) == 0.0
    assert kb.unknown_names(terms("my netflix bill")) == 1.0
    assert KB.unknown_names(terms("track my amazon package")) == 1.0


def test_novelty_is_the_share_of_unknown_content_words() -> None:
    assert KB.novelty(terms("reset password")) == 0.0
    assert KB.novelty(terms("reset netflix password")) == pytest.approx(1 / 3)
    assert KB.novelty(terms("...")) == 0.0  # nothing to judge


@pytest.mark.parametrize(
    ("text", "article"),
    [
        ("비번 잊어버렸어요", "reset_password"),
        ("배송언제", "shipping_time"),
        ("password reset", "reset_password"),
    ],
)
def test_bm25_ranks_the_article_that_shares_the_words(text: str, article: str) -> None:
    scores = KB.scores(terms(text))
    assert max(scores, key=scores.__getitem__) == article
    assert all(0.0 < s < 1.0 for s in scores.values())


def test_no_shared_word_no_lexical_score() -> None:
    assert KB.scores(terms("weather tomorrow")) == {}
