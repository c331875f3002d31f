from pathlib import Path

from kb_index.embedders import Embedder
from kb_index.validate import FEW_VARIANTS, validate
from stack.settings import Settings

ARTICLE = """
  - id: {id}
    questions:
      en: [{en}]
      ko: [{ko}]
      ja: [{ja}]
    answer: {{en: "{answer}", ko: "{answer}", ja: "{answer}"}}
"""


def article(id: str, en: str, ko: str = "환불", ja: str = "返金", answer: str = "ok") -> str:
    return ARTICLE.format(id=id, en=en, ko=ko, ja=ja, answer=answer)


def write_password_and_shipping(path: Path) -> None:
    path.write_text(
        "articles:"
        + article("password", "i forgot my password", "비밀번호 잊어버렸어요", "パスワードを忘れた")
        + article("shipping", "how long is delivery", "배송 얼마나 걸려요", "配送は何日"),
        encoding="utf-8",
    )


def test_problems_are_reported_with_file_line_and_article(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "articles:" + article("refunds", "refund please", "환불요", "返金して"), encoding="utf-8"
    )
    (tmp_path / "b.yml").write_text(
        "articles:"
        + article("refunds", "money back", "돈 돌려줘", "お金返して")  # duplicate id
        + article("empty", "x", "y", "z", answer="")  # empty answer everywhere
        + article("copy", "refund please", "복사", "コピー"),  # variant of another article
        encoding="utf-8",
    )
    (tmp_path / "c.yml").write_text("articles:\n  - id: [unclosed\n", encoding="utf-8")
    problems = validate(tmp_path)
    errors = [str(p) for p in problems if p.level == "error"]
    assert any("b.yml:2 [refunds]: duplicate id (also at" in e and "a.yml:2" in e for e in errors)
    assert any("[empty]: empty answer in every language" in e for e in errors)
    assert any("'refund please' is in articles copy, refunds" in e for e in errors)
    # the broken file is reported, and the other files were still checked
    assert any("c.yml:" in e and "broken YAML" in e for e in errors)
    assert sum("empty answer" in e for e in errors) == 1


def test_missing_translation_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "articles:\n  - id: a\n    questions: {en: [hi]}\n    answer: {en: hello}\n",
        encoding="utf-8",
    )
    messages = [(p.level, p.message) for p in validate(tmp_path)]
    assert ("warning", "no 'ko' question variants") in messages
    assert ("warning", "missing 'ja' answer (English is shown instead)") in messages
    assert not any(level == "error" for level, _ in messages)


def test_an_article_with_few_variants_in_a_language_is_a_warning(tmp_path: Path) -> None:
    many = ", ".join(f"refund question {n}" for n in range(FEW_VARIANTS))
    (tmp_path / "a.yml").write_text(
        "articles:" + article("refunds", many, "환불요, 돈 돌려주세요", "返金して"),
        encoding="utf-8",
    )
    messages = [p.message for p in validate(tmp_path) if p.level == "warning"]
    assert any(m.startswith("only 2 'ko' question variants:") for m in messages)
    assert any(m.startswith("only 1 'ja' question variant:") for m in messages)
    assert not any("'en'" in m for m in messages)  # FEW_VARIANTS of them are enough


def test_variant_closer_to_another_article_is_flagged(tmp_path: Path, embedder: Embedder) -> None:
    write_password_and_shipping(tmp_path / "a.yml")
    (tmp_path / "b.yml").write_text(
        "articles:" + article("misc", "i cant remember my password", "영업시간", "営業時間"),
        encoding="utf-8",
    )
    flagged = {
        p.article_id: p.message for p in validate(tmp_path, embedder) if "is closer to" in p.message
    }
    # the misplaced English variant collides with the password article, both ways round
    assert set(flagged) == {"misc", "password"}
    assert "'i cant remember my password' is closer to 'password'" in flagged["misc"]
    assert "shipping" not in flagged


def test_a_question_both_answered_and_not_covered_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "articles:"
        + article("shipping", "how long is delivery", "배송 얼마나 걸려요", "配送は何日"),
        encoding="utf-8",
    )
    (tmp_path / "not_covered.yml").write_text(
        "not_covered:\n  ko: [배송  얼마나 걸려요]\n  en: [can i pick a time slot]\n",
        encoding="utf-8",
    )
    errors = [str(p) for p in validate(tmp_path) if p.level == "error"]
    assert len(errors) == 1
    assert "[shipping]: variant '배송 얼마나 걸려요' is also listed as not covered" in errors[0]


def test_a_not_covered_question_next_to_a_variant_is_a_warning(
    tmp_path: Path, embedder: Embedder
) -> None:
    write_password_and_shipping(tmp_path / "a.yml")
    (tmp_path / "not_covered.yml").write_text(
        "not_covered:\n"
        "  en: [i forgot my password!, can i pick a delivery time slot]\n"
        "  ja: [配達の時間帯を指定できますか]\n",
        encoding="utf-8",
    )
    near = [p for p in validate(tmp_path, embedder) if "not-covered question" in p.message]
    assert [p.article_id for p in near] == ["password"]
    assert "'i forgot my password!' is almost the same as the variant" in near[0].message
    assert near[0].level == "warning"


def test_broken_not_covered_questions_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "not_covered: {fr: [bonjour]}\narticles:" + article("a", "hi"), encoding="utf-8"
    )
    errors = [str(p) for p in validate(tmp_path) if p.level == "error"]
    assert len(errors) == 1 and "unknown language 'fr'" in errors[0]


def test_the_shipped_kb_has_no_errors() -> None:
    problems = validate(Settings().kb_dir)
    assert [str(p) for p in problems if p.level == "error"] == []
