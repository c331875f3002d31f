"""Unanswered-question groups become KB article drafts a designer can finish."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from kb_index.articles import load_kb
from kb_index.drafts import drafts_yaml
from kb_index.unanswered import Group


def group(representative: str, examples: list[str], languages: dict[str, int]) -> Group:
    return Group(
        representative=representative,
        count=sum(languages.values()),
        kinds=Counter({"abstain": 2, "not_helpful": 1}),
        languages=Counter(languages),
        examples=examples,
        top_articles=Counter({"shipping_time": 2}),
    )


def test_groups_become_drafts_in_the_kb_format(tmp_path: Path) -> None:
    groups = [
        group(
            "do you ship to Mars",
            ["do you ship to Mars", "화성으로 배송돼요?", "火星に届きますか"],
            {"en": 1, "ko": 1, "ja": 1},
        ),
        group("선물 포장 되나요", ["선물 포장 되나요", "선물포장 가능?"], {"ko": 2}),
    ]
    text = drafts_yaml(groups)
    assert "draft_01_do_you_ship_to: x3 (abstain 2, not_helpful 1; nearest: shipping_time)" in text
    articles = yaml.safe_load(text)["articles"]
    assert [a["id"] for a in articles] == ["draft_01_do_you_ship_to", "draft_02"]
    assert articles[0]["questions"] == {
        "en": ["do you ship to Mars"],
        "ko": ["화성으로 배송돼요?"],
        "ja": ["火星に届きますか"],
    }
    assert articles[1]["questions"] == {"ko": ["선물 포장 되나요", "선물포장 가능?"]}
    assert articles[0]["tags"] == ["draft"] and set(articles[0]["answer"]) == {"en", "ko", "ja"}
    # the KB loader reads it as articles (validation then asks for the answers)
    (tmp_path / "drafts.yml").write_text(text, encoding="utf-8")
    loaded = load_kb(tmp_path)
    assert [a.id for a in loaded] == ["draft_01_do_you_ship_to", "draft_02"]


def test_no_groups_no_drafts() -> None:
    assert yaml.safe_load(drafts_yaml([]))["articles"] == []
