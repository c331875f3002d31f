"""Novelty: the share of a question's wording the KB has never used."""

from __future__ import annotations

import pytest

from kb_index.lexicon import Lexicon, terms

KB = Lexicon(
    [
        "how do i reset my password",
        "비밀번호를 잊어버렸어요",
        "パスワードを忘れました",
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reset my PASSWORD", {"reset", "password"}),  # case-folded, short words dropped
        ("비번 잊음", {"비번", "잊음"}),  # Korean: character bigrams
        ("パスワード", {"パス", "スワ", "ワー", "ード"}),  # Japanese: no spaces needed
        ("ＡＢＣ", {"abc"}),  # full-width folded by NFKC
        ("order 12345", {"order"}),  # numbers say nothing about scope
    ],
)
def test_terms(text: str, expected: set[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("known", "unknown"),
    [
        ("reset my password", "reset my netflix password"),
        ("비밀번호 잊어버렸어요", "넷플릭스 비밀번호 잊어버렸어요"),
        ("パスワード忘れました", "ネトフリのパスワード忘れました"),
    ],
)
def test_a_brand_the_kb_never_mentions_raises_novelty(known: str, unknown: str) -> None:
    assert KB.novelty(known) < 0.2
    assert KB.novelty(unknown) > KB.novelty(known) + 0.1


def test_text_without_terms_is_not_novel() -> None:
    assert KB.novelty("?!") == 0.0
