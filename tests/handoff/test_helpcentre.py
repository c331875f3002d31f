"""The help centre (handoff/helpcentre/) in a gateway of its own with the action server
down (nothing listens on its port): the pages, the full-text half of search, language
choice, escaping, hostile input, votes and their limits, and a KB edit showing without a
restart. The semantic half, against the real action server: tests/e2e/test_helpcentre.py."""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from handoff.helpcentre.catalog import HelpCatalog
from handoff.helpcentre.feedback import FeedbackTokens, InvalidToken, token_key
from handoff.helpcentre.fulltext import FullTextIndex, pieces
from handoff.helpcentre.language import best_accepted, page_language
from handoff.helpcentre.routes import MAX_QUERY_CHARS, clean_query
from handoff.helpcentre.search import merge
from handoff.helpcentre.semantic import SemanticResults
from handoff.helpcentre.texts import TEXT_PLACEHOLDERS, help_texts, load_help_texts, problems
from handoff.texts_file import TextsError
from handoff.web.app import create_app
from kb_index.articles import load_file, load_kb
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, STRANGER, free_port
from tests.handoff.texts_yaml import read_yaml, with_change

LANGUAGES = ("ko", "ja", "en")

# -- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("ja", "ja"),
        ("fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.4", "ja"),
        ("en;q=0.5, ko;q=0.8", "ko"),
        ("EN-gb", "en"),
        ("ko;q=0, ja;q=0.1", "ja"),  # q=0 is "not this one"
        ("ko;q=abc, en", "en"),  # an unreadable weight counts as none
        ("ja;q=2, en;q=0.3", "en"),  # out of range too
        ("fr, de", None),
        ("", None),
        (";;,,=q", None),
        ("ko;q=0.5, ja;q=0.5", "ko"),  # a tie: the earlier one
    ],
)
def test_accept_language_picks_the_best_supported(header: str, expected: str | None) -> None:
    assert best_accepted(header) == expected


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ({"lang": "ja"}, "ko", "ja"),  # ?lang= wins
        ({"lang": "fr"}, "ko", "ko"),  # unsupported: falls back
        ({"lang": "<script>"}, None, "en"),
        ({}, None, "en"),
        ({}, "de", "en"),
    ],
)
def test_the_page_language(query: dict[str, str], header: str | None, expected: str) -> None:
    assert page_language(query, header) == expected


# -- texts (data/helpcentre_texts.yml) -------------------------------------------------------

SHIPPED_TEXTS = Settings().helpcentre_texts_path
TEXTS = load_help_texts(SHIPPED_TEXTS).texts


def test_the_shipped_texts_have_no_problem() -> None:
    assert problems(read_yaml(SHIPPED_TEXTS)) == []
    assert set(TEXTS) == set(TEXT_PLACEHOLDERS)


@pytest.mark.parametrize("key", sorted(TEXT_PLACEHOLDERS))
def test_every_text_is_in_three_languages_with_the_same_placeholders(key: str) -> None:
    variants = read_yaml(SHIPPED_TEXTS)["texts"][key]
    assert set(variants) == set(LANGUAGES)
    fields = {
        lang: {f for _, f, _, _ in string.Formatter().parse(text) if f}
        for lang, text in variants.items()
    }
    assert all(text.strip() for text in variants.values())
    assert fields["ko"] == fields["ja"] == fields["en"] == set(TEXT_PLACEHOLDERS[key]), fields
    texts = load_help_texts(SHIPPED_TEXTS)
    filled = {name: "X" for name in TEXT_PLACEHOLDERS[key]}
    said = {lang: texts.say(key, lang, **filled) for lang in LANGUAGES}
    assert said["en"] == variants["en"].format(**filled)
    assert texts.say(key, "de", **filled) == said["en"]  # any other language: English


def test_every_kb_file_of_articles_has_a_category_name_in_three_languages() -> None:
    texts = load_help_texts(SHIPPED_TEXTS)
    paths = list(Settings().kb_dir.glob("*.yml"))
    files = {path.stem for path in paths if load_file(path)}
    assert files and files <= set(texts.categories)
    # a file without articles (not_covered.yml) is no category of the help centre
    categories = {c.id for c in HelpCatalog(Settings().kb_dir).current().categories}
    assert categories == files and "not_covered" not in categories
    assert all(set(names) == set(LANGUAGES) for names in texts.categories.values())
    names = {lang: texts.category_name("shipping", lang) for lang in LANGUAGES}
    assert names == {"ko": "배송", "ja": "配送", "en": "Shipping"}
    assert texts.category_name("order_help", "ja") == "Order help"  # a file not in the list


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["texts", "home_heading", "ja"], None, "texts.home_heading.ja is missing or empty"),
        (["texts", "search_button", "ko"], "  ", "texts.search_button.ko is missing or empty"),
        (["texts", "search_label"], None, "texts.search_label is missing"),
        (
            ["texts", "results_heading", "en"],
            "{n} for {query}",
            "texts.results_heading.en uses {n}",
        ),
        (
            ["texts", "results_heading", "ja"],
            "「{query}」の検索結果",
            "texts.results_heading has different {placeholders} per language",
        ),
        (["texts", "query_shortened", "ko"], "{max 자", "texts.query_shortened.ko: broken"),
        (["texts", "site_titel"], {"en": "x"}, "texts.site_titel is not used"),
        (["categories", "shipping", "en"], None, "categories.shipping.en is missing"),
        (["categories", "orders"], "Orders", "categories.orders needs a name in each"),
        (["categories"], None, "`categories:` is missing"),
    ],
)
def test_text_problems_are_named(path: list[str], value: object, expected: str) -> None:
    found = problems(with_change(SHIPPED_TEXTS, path, value))
    assert any(expected in line for line in found), found


def test_a_broken_texts_file_is_refused_naming_the_file_each_key_and_what_to_do(
    tmp_path: Path,
) -> None:
    raw = with_change(SHIPPED_TEXTS, ["texts", "no_results", "ja"], None)
    raw["texts"]["results_heading"]["ko"] = "{count}건"
    path = tmp_path / "helpcentre_texts.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TextsError) as error:
        load_help_texts(path)
    message = str(error.value)
    assert message.startswith(f"{path}:\n")
    assert "texts.no_results.ja is missing or empty" in message
    assert "texts.results_heading has different {placeholders} per language" in message
    assert "python -m handoff texts check" in message  # what to do next


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read it"),
        ("texts: [unclosed", "not valid YAML"),
        ("- a list", "must be a mapping"),
    ],
)
def test_a_missing_or_unreadable_texts_file_is_refused_with_its_name(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "helpcentre_texts.yml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(TextsError) as error:
        load_help_texts(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)
    assert "python -m handoff texts check" in str(error.value)


def test_the_texts_are_read_once_per_process(tmp_path: Path) -> None:
    path = tmp_path / "helpcentre_texts.yml"
    shutil.copy(SHIPPED_TEXTS, path)
    first = help_texts(path)
    path.write_text("broken: [", encoding="utf-8")  # an edit shows after a restart only
    assert help_texts(path) is first


def test_the_designers_check_reads_the_help_centres_texts_too(tmp_path: Path) -> None:
    """`python -m handoff texts check`: the shipped files pass; a broken help-centre file
    fails it (exit 1) with its name and the key."""
    check = [sys.executable, "-m", "handoff", "texts", "check"]
    good = subprocess.run(check, capture_output=True, text=True, timeout=60, check=False)
    assert good.returncode == 0, good.stderr
    assert f"{SHIPPED_TEXTS}: every text in ko, ja and en" in good.stdout
    path = tmp_path / "helpcentre_texts.yml"
    raw = with_change(SHIPPED_TEXTS, ["categories", "returns", "ko"], None)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HELPCENTRE_TEXTS_PATH": str(path)}
    bad = subprocess.run(check, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1
    assert f"error: {path}:" in bad.stderr
    assert "categories.returns.ko is missing or empty" in bad.stderr


def test_the_gateway_does_not_start_with_a_broken_texts_file(tmp_path: Path) -> None:
    """`python -m handoff` with a broken file: exit 2 and a message naming the file and
    the key, before it opens any port or database."""
    raw = with_change(SHIPPED_TEXTS, ["texts", "helpful_question", "en"], None)
    path = tmp_path / "helpcentre_texts.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "ASSISTANT_HELPCENTRE_TEXTS_PATH": str(path),
        "ASSISTANT_DB_PATH": str(tmp_path / "never.sqlite3"),
        "ASSISTANT_GATEWAY_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "handoff"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"error: the gateway cannot start: {path}:" in done.stderr
    assert "texts.helpful_question.en is missing or empty" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "never.sqlite3").exists()


# -- full-text matching ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fulltext() -> FullTextIndex:
    return FullTextIndex(load_kb(Settings().kb_dir))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("주문을 취소하고 싶어요", "order_cancellation"),  # particles glued on
        ("비밀번호를잊어버렸어요", "reset_password"),  # and no spaces at all
        ("配送料はいくらですか", "shipping_cost"),  # Japanese: no spaces
        ("ｷｬﾝｾﾙ", "order_cancellation"),  # half-width katakana
        ("영수증", "invoices_receipts"),
        ("HOW DO I CANCEL MY ORDER", "order_cancellation"),
        ("giftcard", "giftcard_balance"),
    ],
)
def test_full_text_finds_the_article(fulltext: FullTextIndex, query: str, expected: str) -> None:
    found = [m.article_id for m in fulltext.search(query, 10)]
    assert found[:1] == [expected], found


@pytest.mark.parametrize("query", ["weather in helsinki", "ヘルシンキの天気", "", "   ", "!!!"])
def test_full_text_finds_nothing_for_what_the_kb_does_not_say(
    fulltext: FullTextIndex, query: str
) -> None:
    assert fulltext.search(query, 10) == []


def test_query_pieces() -> None:
    assert pieces("배송은 언제") == ["배송", "송은", "언제"]
    assert pieces("注文ID확인") == ["注文", "id", "확인"]
    assert pieces("Ｃancel!! cancel") == ["cancel"]  # NFKC, case-folded, once
    assert pieces("점") == ["점"]


# -- merging the two halves ---------------------------------------------------------------


def test_merge_puts_what_both_found_first_and_drops_far_semantic_neighbours() -> None:
    from handoff.helpcentre.fulltext import Match

    semantic = SemanticResults("answer", [("a", 1.2), ("b", 1.1), ("far", 0.9)])
    words = [Match("b", 2.0), Match("c", 1.0)]
    merged = merge(semantic, words, {"a", "b", "c", "far"})
    assert [r.article_id for r in merged] == ["b", "a", "c"]
    assert (merged[0].semantic, merged[0].words) == (True, True)


def test_merge_keeps_only_word_matches_when_the_kb_does_not_cover_the_query() -> None:
    from handoff.helpcentre.fulltext import Match

    abstain = SemanticResults("abstain", [("a", 0.9), ("b", 0.88)])
    assert [r.article_id for r in merge(abstain, [Match("c", 1.0)], {"a", "b", "c"})] == ["c"]
    # an article the pages do not know (the index is a moment behind an edit) is left out
    answer = SemanticResults("answer", [("gone", 1.2), ("a", 1.15)])
    assert [r.article_id for r in merge(answer, [], {"a"})] == ["a"]
    assert merge(None, [], {"a"}) == []


# -- queries ------------------------------------------------------------------------------


def test_a_query_is_cleaned_and_trimmed() -> None:
    assert clean_query("  배송\x00은\ud800  언제\t") == ("배송 은 언제", False)
    text, trimmed = clean_query("가" * (MAX_QUERY_CHARS + 50))
    assert (len(text), trimmed) == (MAX_QUERY_CHARS, True)


# -- vote tokens ----------------------------------------------------------------------------


def test_a_vote_token_is_good_for_its_article_for_a_week() -> None:
    now = [1_800_000_000.0]
    tokens = FeedbackTokens(token_key("shared secret"), clock=lambda: now[0])
    token = tokens.issue("shipping_time")
    key = tokens.check(token, "shipping_time")
    assert key.startswith("helpcentre:") and key == tokens.check(token, "shipping_time")
    assert tokens.issue("shipping_time") != token  # a fresh nonce per page
    # another replica with the same shared secret accepts it; another secret does not
    assert FeedbackTokens(token_key("shared secret"), lambda: now[0]).check(token, "shipping_time")
    with pytest.raises(InvalidToken, match="not issued for this article"):
        FeedbackTokens(token_key("other"), lambda: now[0]).check(token, "shipping_time")
    with pytest.raises(InvalidToken, match="not issued for this article"):
        tokens.check(token, "shipping_cost")
    nonce, issued, signature = token.split(".")
    with pytest.raises(InvalidToken):
        tokens.check(f"{nonce}.{int(issued) + 1}.{signature}", "shipping_time")
    for garbage in ("", "a.b", "x" * 500, "ü.1.x", "a..b", token + "\x00"):
        with pytest.raises(InvalidToken):
            tokens.check(garbage, "shipping_time")
    now[0] += 7 * 86400 + 1
    with pytest.raises(InvalidToken, match="too old"):
        tokens.check(token, "shipping_time")


# -- the pages, in a gateway -------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    shutil.copytree(Settings().kb_dir, tmp_path / "kb")
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the bot and the action server are "down"
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
        kb_dir=tmp_path / "kb",
        action_auth_token="test-secret",
        conversations_per_address_per_minute=3,
    )
    test_client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def page(client: TestClient[Any, Any], path: str, **headers: str) -> tuple[int, str]:
    response = await client.get(path, headers=headers)
    return response.status, await response.text()


async def test_home_lists_every_category_in_the_language(client: TestClient[Any, Any]) -> None:
    status, body = await page(client, "/help?lang=ja")
    assert status == 200
    assert '<html lang="ja">' in body
    assert "ヘルプセンター" in body and "配送" in body and "ギフトカード" in body
    assert 'href="/help/articles/order_cancellation?lang=ja"' in body
    response = await client.get("/help", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="ko">' in await response.text()
    assert response.headers["Content-Language"] == "ko"
    assert "Accept-Language" in response.headers["Vary"]
    assert response.content_type == "text/html"
    # the gateway's page policy: our own stylesheet, no script of any kind
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "script-src 'self'" in csp
    assert "<script" not in await response.text()
    status, body = await page(client, "/help?lang=xx", **{"Accept-Language": "fr"})
    assert (status, '<html lang="en">' in body) == (200, True)
    # the switcher offers each language on the same page
    for lang in LANGUAGES:
        assert f'href="/help?lang={lang}"' in body
    moved = await client.get("/help/?lang=ko", allow_redirects=False)
    assert (moved.status, moved.headers["Location"]) == (301, "/help?lang=ko")


async def test_an_article_page_in_each_language(client: TestClient[Any, Any]) -> None:
    articles = {a.id: a for a in load_kb(Settings().kb_dir)}
    for lang in LANGUAGES:
        status, body = await page(client, f"/help/articles/order_cancellation?lang={lang}")
        assert status == 200
        answer = articles["order_cancellation"].answer_in(lang)
        assert html.escape(answer) in body
        assert 'name="token"' in body and 'value="helpful"' in body
        # its category, and the switcher keeps the article
        assert f'href="/help?lang={lang}#category-orders"' in body
        assert 'href="/help/articles/order_cancellation?lang=ja"' in body
    response = await client.get("/help/articles/order_cancellation")
    assert "no-store" in response.headers["Cache-Control"]  # a token per reader


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("ko", "도움말을 찾을 수 없어요"),
        ("ja", "記事が見つかりません"),
        ("en", "Article not found"),
    ],
)
async def test_an_unknown_article_is_a_404_page_in_the_language(
    client: TestClient[Any, Any], lang: str, says: str
) -> None:
    for article_id in ("no_such_article", "%3Cscript%3E", "..%2F..%2Fetc", "x" * 3000):
        status, body = await page(client, f"/help/articles/{article_id}?lang={lang}")
        assert status == 404
        assert says in body and "<script>" not in body


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("주문을 취소하고 싶어요", "ko", "order_cancellation"),
        ("配送料はいくらですか", "ja", "shipping_cost"),
        ("reset my password", "en", "reset_password"),
    ],
)
async def test_search_without_the_action_server_shows_word_matches_and_says_so(
    client: TestClient[Any, Any], query: str, lang: str, expected: str
) -> None:
    response = await client.get("/help", params={"q": query, "lang": lang})
    body = await response.text()
    assert response.status == 200
    first = re.search(r'<ol class="results"><li><a href="/help/articles/([^?"]+)', body)
    assert first is not None and first.group(1) == expected
    assert TEXTS["semantic_unavailable"][lang] in body


async def test_whatever_is_typed_is_escaped(client: TestClient[Any, Any]) -> None:
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = await client.get("/help", params={"q": attack, "lang": "en"})
    body = await response.text()
    assert response.status == 200
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'value="&quot;&gt;&lt;script&gt;' in body  # the search box keeps it, inert
    # and in the switcher's links
    assert "q=%22%3E%3Cscript%3E" in body


@pytest.mark.parametrize(
    "query",
    ["%00", "%ED%A0%80", "%FF%FE", "a%00b", "%F0%9F%98%80" * 5, "%E2%80%AE" + "x" * 5],
)
async def test_broken_queries_are_no_500(
    client: TestClient[Any, Any], query: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await client.get(f"/help?q={query}&lang={query}")
        body = await response.text()
    assert response.status == 200
    assert "\x00" not in body
    assert "Traceback" not in caplog.text


async def test_a_long_search_is_trimmed_and_the_page_says_so(client: TestClient[Any, Any]) -> None:
    response = await client.get("/help", params={"q": "환불 " * 120, "lang": "ko"})
    body = await response.text()
    assert response.status == 200
    assert TEXTS["query_shortened"]["ko"].format(max=MAX_QUERY_CHARS) in body
    assert "refund_timing" in body


async def test_a_kb_edit_shows_on_the_next_request(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    kb_dir = _kb_dir(client)
    shipping = kb_dir / "shipping.yml"
    original = shipping.read_text(encoding="utf-8")
    old = "ご注文は1営業日以内に発送されます。"
    assert old in original
    status, body = await page(client, "/help/articles/shipping_time?lang=ja")
    assert old in body
    shipping.write_text(original.replace(old, "ご注文は当日中に発送されます。"), encoding="utf-8")
    status, body = await page(client, "/help/articles/shipping_time?lang=ja")
    assert "ご注文は当日中に発送されます。" in body
    # a new file is a new category; search finds its article at once
    (kb_dir / "zz_events.yml").write_text(
        "articles:\n  - id: spring_sale\n    questions: {en: [when is the spring sale]}\n"
        "    answer: {en: The spring sale starts on March 3rd.}\n",
        encoding="utf-8",
    )
    status, body = await page(client, "/help?q=spring+sale&lang=en")
    assert "/help/articles/spring_sale" in body
    # a broken edit is logged, and the last good articles keep showing
    with caplog.at_level(logging.ERROR, logger="handoff.helpcentre.catalog"):
        shipping.write_text("articles: [", encoding="utf-8")
        status, body = await page(client, "/help/articles/shipping_time?lang=ja")
    assert status == 200 and "ご注文は当日中に発送されます。" in body
    assert "shipping.yml" in caplog.text and "kept the previous articles" in caplog.text


def _kb_dir(client: TestClient[Any, Any]) -> Path:
    from handoff.web.state import SETTINGS

    kb_dir: Path = client.app[SETTINGS].kb_dir
    return kb_dir


# -- votes --------------------------------------------------------------------------------------


async def _token(client: TestClient[Any, Any], article_id: str) -> str:
    _, body = await page(client, f"/help/articles/{article_id}?lang=ko")
    found = re.search(r'name="token" value="([^"]+)"', body)
    assert found is not None
    return found.group(1)


async def _verdicts(client: TestClient[Any, Any]) -> list[tuple[Any, ...]]:
    from handoff.web.state import SERVICE

    db = client.app[SERVICE].store.connection  # type: ignore[attr-defined]
    async with db.execute(
        "SELECT kind, article_id, language FROM bot_events"
        " WHERE conversation_id LIKE 'helpcentre:%' ORDER BY ts"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def test_a_vote_is_recorded_once_per_page_and_goes_back_to_the_article(
    client: TestClient[Any, Any],
) -> None:
    token = await _token(client, "shipping_time")
    form = {"token": token, "verdict": "helpful", "lang": "ko"}
    response = await client.post(
        "/help/articles/shipping_time/feedback", data=form, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/help/articles/shipping_time?lang=ko&voted=1#feedback"
    status, body = await page(client, response.headers["Location"].split("#")[0])
    assert status == 200
    assert TEXTS["feedback_thanks"]["ko"] in body and 'value="helpful"' not in body
    # the same page again (a resent form, the other button): still one verdict
    again = {**form, "verdict": "not_helpful"}
    response = await client.post(
        "/help/articles/shipping_time/feedback", data=again, allow_redirects=False
    )
    assert response.status == 303
    assert await _verdicts(client) == [("helpful", "shipping_time", "ko")]


async def test_refused_votes_say_why_in_json(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    token = await _token(client, "shipping_time")
    good = {"token": token, "verdict": "helpful", "lang": "ko"}
    path = "/help/articles/shipping_time/feedback"
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (path, {"json": good}, 400, "form"),
        (path, {"data": {**good, "verdict": "maybe"}}, 400, "verdict"),
        (path, {"data": {**good, "lang": "fr"}}, 400, "lang"),
        (path, {"data": {**good, "extra": "1"}}, 400, "each once"),
        (path, {"data": {"token": token, "verdict": "helpful"}}, 400, "lang"),
        (path, {"data": {**good, "token": "forged.1.x"}}, 400, "not issued"),
        (path, {"data": "token=%00&verdict=helpful&lang=ko", "headers": _FORM}, 400, "token"),
        (path, {"data": "token=%ED%A0%80&verdict=helpful&lang=ko", "headers": _FORM}, 400, "UTF"),
        (
            path,
            {"data": "token=%FF&verdict=helpful&lang=ko", "headers": _FORM},
            400,
            "UTF-8",
        ),
        (path, {"data": "token&&&", "headers": _FORM}, 400, "form"),
        (path, {"data": "a=1&" * 2000, "headers": _FORM}, 400, "form"),
        (path, {"data": "x=" + "y" * 70_000, "headers": _FORM}, 413, "larger"),
        ("/help/articles/shipping_cost/feedback", {"data": good}, 400, "not issued"),
        ("/help/articles/no_such/feedback", {"data": good}, 404, "no such article"),
        (path, {"data": good, "headers": {"Origin": "https://evil.example"}}, 403, "own pages"),
    ]
    with caplog.at_level(logging.WARNING):
        for url, kwargs, status, says in cases:
            response = await client.post(url, allow_redirects=False, **kwargs)
            assert response.status == status, (kwargs, await response.text())
            body = await response.json()
            assert says in body["error"]["message"], (kwargs, body)
    assert "Traceback" not in caplog.text
    assert await _verdicts(client) == []
    # a browser form from our own page says "Origin: null" (Referrer-Policy no-referrer)
    response = await client.post(path, data=good, headers={"Origin": "null"}, allow_redirects=False)
    assert response.status == 303


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_votes_are_rate_limited_per_address(client: TestClient[Any, Any]) -> None:
    """The per-address limit of new conversations (3 a minute in this gateway); a
    client on the gateway's own machine is not counted."""
    statuses = []
    for _ in range(5):
        token = await _token(client, "refund_timing")
        form = {"token": token, "verdict": "not_helpful", "lang": "ja"}
        response = await client.post(
            "/help/articles/refund_timing/feedback",
            data=form,
            allow_redirects=False,
            headers=STRANGER,
        )
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert (await response.json())["error"]["code"] == "rate_limited"
    assert statuses == [303, 303, 303, 429, 429]
    assert len(await _verdicts(client)) == 3
    for _ in range(2):
        token = await _token(client, "refund_timing")
        form = {"token": token, "verdict": "helpful", "lang": "ja"}
        response = await client.post(
            "/help/articles/refund_timing/feedback", data=form, allow_redirects=False
        )
        assert response.status == 303
    assert len(await _verdicts(client)) == 5


async def test_catalog_reload_is_a_stat_when_nothing_changed(tmp_path: Path) -> None:
    shutil.copytree(Settings().kb_dir, tmp_path / "kb")
    catalog = HelpCatalog(tmp_path / "kb")
    first = catalog.current()
    assert catalog.current() is first  # unchanged files: the same version, not re-read
    assert len(first.articles) == len(load_kb(tmp_path / "kb"))
    (tmp_path / "kb" / "orders.yml").unlink()
    assert "order_cancellation" not in catalog.current().articles


# -- the action server's answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("payloads", "says"),
    [
        ([{"search_error": "KBIndexError"}], "could not search"),
        ([{"suggestions": []}], "no search results"),
        ([], "no search results"),
    ],
)
def test_an_unusable_answer_is_unavailable_not_an_error(
    payloads: list[dict[str, Any]], says: str
) -> None:
    from handoff.helpcentre.semantic import SemanticUnavailable, _results

    with pytest.raises(SemanticUnavailable, match=says):
        _results(payloads)


def test_malformed_results_are_skipped() -> None:
    from handoff.helpcentre.semantic import _results

    found = _results(
        [
            {
                "search": {
                    "decision": "answer",
                    "results": [
                        {"article_id": "a", "score": 1.1},
                        {"article_id": 3, "score": 1.0},
                        {"article_id": "b", "score": "high"},
                        "c",
                        {"article_id": "d", "score": 0.9},
                    ],
                }
            },
        ]
    )
    assert found == SemanticResults("answer", [("a", 1.1), ("d", 0.9)])


async def test_a_silent_action_server_is_given_up_on(tmp_path: Path) -> None:
    """One that accepts the connection and never answers: the page waits the timeout,
    then shows full-text results alone."""
    import asyncio
    import time

    import aiohttp

    from handoff.helpcentre.semantic import SemanticSearch, SemanticUnavailable

    done = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        search = SemanticSearch(session, f"http://127.0.0.1:{port}", "secret", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(SemanticUnavailable, match="unreachable"):
            await search.search("배송", 10)
        assert time.monotonic() - started < 5
    done.set()
    server.close()
    await server.wait_closed()
