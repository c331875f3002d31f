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
