from pathlib import Path

import pytest

from kb_index.articles import KBError, load_file, load_kb, load_not_covered, load_shop_names

GOOD = """
articles:
  - id: shipping_time
    tags: [shipping]
    questions:
      en: [how long is shipping]
      ko: [배송 얼마나 걸려요]
      ja: [配送日数は]
    answer:
      en: Two days.
      ko: 이틀 걸려요.
      ja: 2日です。
    links:
      - url: https://maru-store.example/help/shipping
        title: {en: Shipping, ko: 배송, ja: 配送}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_articles_with_answers_links_and_source_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    [article] = load_kb(tmp_path)
    assert article.id == "shipping_time"
    assert article.answer_in("ko") == "이틀 걸려요."
    assert article.links[0].title_in("ja") == "配送"
    assert article.line == 3
    assert ("ja", "配送日数は") in article.variants()


def test_missing_translation_falls_back_to_english(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD.replace("ko: 이틀 걸려요.", "ko: ''"))
    [article] = load_kb(tmp_path)
    assert article.answer_in("ko") == "Two days."


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", GOOD.replace("tags: [shipping]", "tags: [shipping"))
    with pytest.raises(KBError) as caught:
        load_file(path)
    assert caught.value.path == str(path)
    assert caught.value.line is not None and caught.value.line >= 4
    assert "broken YAML" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- just a list", "top-level 'articles:'"),
        ("articles:\n  - tags: [x]\n", "without an 'id'"),
        ("articles:\n  - id: a\n    questions: [x]\n", "'questions' must map"),
        ("articles:\n  - id: a\n    questions: {en: [q]}\n    answer: 3\n", "'answer' must map"),
    ],
)
def test_bad_shapes_are_errors_not_crashes(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, "bad.yml", text)
    with pytest.raises(KBError, match=fragment):
        load_file(path)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KBError, match="not found"):
        load_kb(tmp_path / "nope")


def test_shop_names_come_from_any_file_beside_the_articles(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "shop_names: [마루 스토어, Maru Store]\n" + GOOD)
    write(tmp_path, "b.yml", "shop_names: [マル ストア]\narticles: []\n")
    assert load_shop_names(tmp_path) == ("마루 스토어", "Maru Store", "マル ストア")
    assert [a.id for a in load_kb(tmp_path)] == ["shipping_time"]  # the articles load as before


@pytest.mark.parametrize("names", ["Maru Store", "[Maru Store, 3]", "['']"])
def test_shop_names_must_be_a_list_of_texts(tmp_path: Path, names: str) -> None:
    path = write(tmp_path, "a.yml", f"shop_names: {names}\n" + GOOD)
    with pytest.raises(KBError, match="shop_names") as raised:
        load_shop_names(tmp_path)
    assert str(path) in str(raised.value)


NOT_COVERED = """
not_covered:
  ko: ["배송 시간 지정 되나요", "  "]
  ja: [配達の時間指定できる？]
  en: [can i pick a delivery time slot]
"""


def test_not_covered_questions_may_have_a_file_of_their_own(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    write(tmp_path, "not_covered.yml", NOT_COVERED)
    assert load_not_covered(tmp_path) == (
        ("ko", "배송 시간 지정 되나요"),
        ("ja", "配達の時間指定できる？"),
        ("en", "can i pick a delivery time slot"),
    )  # blank entries dropped
    assert [a.id for a in load_kb(tmp_path)] == ["shipping_time"]  # not an article file


def test_a_kb_without_not_covered_questions_has_none(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    assert load_not_covered(tmp_path) == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[a, b]", "must map language -> list of questions"),
        ("{fr: [bonjour]}", "unknown language 'fr'"),
        ("{en: how do i}", "'not_covered.en' must be a list of texts"),
        ("{ko: [[nested]]}", "'not_covered.ko' must be a list of texts"),
    ],
)
def test_not_covered_must_map_languages_to_lists_of_texts(
    tmp_path: Path, value: str, message: str
) -> None:
    path = write(tmp_path, "a.yml", f"not_covered: {value}\n" + GOOD)
    with pytest.raises(KBError, match=message) as raised:
        load_not_covered(tmp_path)
    assert str(path) in str(raised.value)
