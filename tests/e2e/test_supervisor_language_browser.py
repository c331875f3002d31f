"""The supervisor page (analytics, the live "Now" view and the unanswered topics, all on
/agent/analytics) in Korean, Japanese and English, in real headless Chromium, through the
agent console's strings table and language choice (handoff/static/console_i18n.js): the
browser's language picks the default, the console's stored choice is shared, every label,
chart label, date, number and duration follows it, and nothing of the English UI is left on
the Korean and Japanese pages. The first test reads the table as plain text (no stack)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from handoff.agent import analytics
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.conftest import AGENT_PASSWORD
from tests.e2e.test_analytics import (
    SUPERVISOR_PASSWORD,
    _one_of_everything,
    supervisor,  # noqa: F401 - fixture
)
from tests.e2e.test_console_language_browser import queue_customer
from tests.e2e.test_reassign import beside_the_browser
from tests.e2e.test_topics import _ask, recorded
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

STATIC = PROJECT_ROOT / "handoff" / "static"
LANGUAGES = ("ko", "ja", "en")
BROWSER_LOCALES = {"ko": "ko-KR", "ja": "ja-JP", "en": "en-US"}
FIGURES = tuple(analytics.FIGURES)

# Written out here, not read from the table: an empty table, or one English everywhere, fails.
HEADINGS = {
    "ko": [
        "실시간 현황",
        "상담 건수 및 처리 결과",
        "사유별 상담원 연결",
        "첫 응답 대기 시간",
        "상담 처리 시간",
        "고객 만족도",
        "챗봇 응답 판단",
        "지식베이스 문서",
        "라벨",
        "미답변 질문 주제",
    ],
    "ja": [
        "リアルタイム状況",
        "会話数と対応結果",
        "理由別の有人対応への引き継ぎ",
        "初回応答までの待ち時間",
        "対応時間",
        "顧客満足度",
        "ボットの回答判定",
        "ナレッジベース記事",
        "ラベル",
        "未回答のトピック",
    ],
    "en": [
        "Now",
        "Conversations and how they ended",
        "Handoffs by reason",
        "Wait to the first agent reply",
        "Handle time",
        "Customer satisfaction",
        "Bot decisions",
        "Knowledge-base articles",
        "Labels",
        "Unanswered topics",
    ],
}
# A few labels of each part of the page, as a supervisor reads them.
LABELS = {
    "ko": {
        "login": "로그인",
        "sign_out": "로그아웃",
        "csv": "CSV 다운로드",
        "queued": "대기 중",
        "reason": "고객이 상담원 연결 요청",
        "chat_headers": ["상담", "상태", "언어", "담당 분야", "연결 사유", "대기 시간", "상담원"],
        "agent_headers": ["상담원", "상태", "진행 중 상담", "최대 동시 상담", "상담 언어"],
        "reassign": "이관",
        "outcomes": ["챗봇 해결", "상담원 해결", "진행 중"],
        "outcome_headers": ["언어", "상담 수", "챗봇 해결", "챗봇 해결률"],
        "csat_headers": ["상담원", "평가 수", "평균 점수", "응답률"],
        "topic_headers": ["질문 수", "언어별", "질문 예시", "가장 가까운 문서", "초안"],
        "all_languages": "전체 언어",
        "label_headers": ["라벨", "상담 수", "전체 상담 대비 비율"],
        "refund": "환불",
    },
    "ja": {
        "login": "ログイン",
        "sign_out": "ログアウト",
        "csv": "CSVダウンロード",
        "queued": "待機中",
        "reason": "お客様が有人対応を希望",
        "chat_headers": ["会話", "状態", "言語", "スキル", "引き継ぎ理由", "待ち時間"],
        "agent_headers": ["オペレーター", "対応状況", "対応中のチャット", "同時対応上限"],
        "reassign": "移管",
        "outcomes": ["ボットで解決", "オペレーターが解決", "対応継続中"],
        "outcome_headers": ["言語", "会話数", "ボット解決", "ボット解決率"],
        "csat_headers": ["オペレーター", "評価数", "平均スコア", "回答率"],
        "topic_headers": ["件数", "言語別", "質問例", "最も近い記事", "下書き"],
        "all_languages": "全言語",
        "label_headers": ["ラベル", "会話数", "全会話に占める割合"],
        "refund": "返金",
    },
    "en": {
        "login": "Sign in",
        "sign_out": "Sign out",
        "csv": "Download CSV",
        "queued": "Waiting",
        "reason": "Customer asked for a person",
        "chat_headers": ["Conversation", "State", "Language", "Skill", "Reason", "Wait", "Agent"],
        "agent_headers": ["Agent", "Availability", "Open chats", "Capacity", "Languages"],
        "reassign": "Reassign",
        "outcomes": ["Resolved by the bot", "Resolved by an agent", "Still open"],
        "outcome_headers": ["Language", "Conversations", "Bot resolved", "Deflection"],
        "csat_headers": ["Agent", "Ratings", "Average", "Response rate"],
        "topic_headers": ["Size", "Languages", "Examples", "Nearest article", "Draft"],
        "all_languages": "All languages",
        "label_headers": ["Label", "Conversations", "Share of conversations"],
        "refund": "Refund",
    },
}
# The English UI this feature replaced: none of it may be left on the Korean and Japanese pages.
ENGLISH_UI = [
    *HEADINGS["en"][1:],
    "Maru Store analytics",
    "Agent console",
    "Sign out",
    "Sign in",
    "Username",
    "Password",
    "Download CSV",
    "Download all drafts",
    "Download draft",
    "No data for this range",
    "Days are UTC",
    "Days follow",
    "Every figure",
    "How conversations ended",
    "Questions the knowledge base could not answer",
    "All languages",
    "Resolved by the bot",
    "Bot, unresolved",
    "Resolved by an agent",
    "Still open",
    "Offline ticket",
    "Conversations",
    "Deflection",
    "Handed off",
    "Handoffs",
    "Response rate",
    "Picked from options",
    "Customer asked",
    "Two misses",
    "Everyone",
    "Bot only",
    "Didn't help",
    "Didn’t help",
    "Oldest wait",
    "Open chats",
    "Capacity",
    "Give to",
    "Reassign",
    "Choose an agent",
    "With an agent",
    "Nobody is waiting",
    "No one is waiting",
    "No chats with people",
    "agents online",
    "waiting ·",
    "Nearest article",
    "Examples",
    "questions,",
    "Grouping unanswered",
    "Every question in this range",
    "Ignore language, skill and capacity",
    "Loading",
    "(days in",
]
# A day on a chart's axis, and the report's range, as Intl writes them in each language.
AXIS_DAY = {
    "ko": r"^\d{1,2}월 \d{1,2}일$",
    "ja": r"^\d{1,2}月\d{1,2}日$",
    "en": r"^[A-Z][a-z]{2} \d{1,2}$",
}
STATUS = {
    "ko": r"^\d{4}\. \d{1,2}\. \d{1,2}\.\s*~\s*\d{4}\. \d{1,2}\. \d{1,2}\. \(.+ 기준\), 전체 언어$",
    "ja": r"^\d{4}/\d{2}/\d{2}\s*～\s*\d{4}/\d{2}/\d{2}（.+基準）、全言語$",
    "en": r"^[A-Z][a-z]{2} \d{1,2}(, \d{4})?\s+–\s+([A-Z][a-z]{2} )?\d{1,2}, \d{4} \(days in .+\), All languages$",
}
# Durations (waits, handle times), as the console writes a queue's wait.
DURATION = {
    "ko": r"^\d+초$|^\d+분 \d{2}초$|^\d+시간 \d{2}분$",
    "ja": r"^\d+秒$|^\d+分\d{2}秒$|^\d+時間\d{2}分$",
    "en": r"^\d+s$|^\d+m \d{2}s$|^\d+h \d{2}m$",
}
# The live view's line: how many wait, agents online, and the time of the frame.
LIVE_STAMP = {
    "ko": r"^대기 \d+건 · 접속 상담원 \d+/\d+명 · (오전|오후) \d{2}:\d{2}:\d{2}$",
    "ja": r"^待機 \d+件 · ログイン中のオペレーター \d+/\d+人 · \d{2}:\d{2}:\d{2}$",
    "en": r"^\d+ waiting · agents online: \d+ of \d+ · \d{2}:\d{2}:\d{2}\s(AM|PM)$",
}
TOPICS_STATUS = {
    "ko": r"^질문 \d+건, 주제 \d+개",
    "ja": r"^質問 \d+件、トピック \d+件",
    "en": r"^\d+ questions, \d+ topics",
}

# What the page's own words are: headings, headers, buttons, labels, options, messages,
# titles and aria-labels, and every chart's legend and axis (not the articles' ids or the
# customers' questions: data; nor the labels' names: data/labels.yml's, "VIP" in every
# language). Agent names and table cells are data too, so not read here.
PAGE_WORDS = """() => {
  const words = [document.title];
  const visible = (el) => !el.closest('[hidden]');
  document.querySelectorAll(
    'h1, h2, th, button, label, .empty, .figure-definition, .filters-note, #status, '
    + '#live-stamp, #topics-status, #live-result, #login-error, .chat-state, .chat-reason, '
    + '#language option, select.reassign-agent option'
  ).forEach((el) => { if (visible(el)) words.push(el.textContent.trim()); });
  document.querySelectorAll('[title], [aria-label]').forEach((el) => {
    if (el.closest('tr.live-chat') && el.tagName === 'TR') return; // a chat's summary: customer text
    if (el.title) words.push(el.title);
    if (el.getAttribute('aria-label')) words.push(el.getAttribute('aria-label'));
  });
  document.querySelectorAll('canvas').forEach((canvas) => {
    const chart = Chart.getChart(canvas);
    if (!chart) return;
    chart.data.datasets.forEach((d) => words.push(d.label));
    if (!['chart-articles', 'chart-topics', 'chart-labels'].includes(canvas.id)) {
      words.push(...chart.data.labels);
    }
  });
  return words.filter((w) => w);
}"""
CHART = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  return chart && { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => d.label),
                    locale: chart.options.locale };
}"""
# Every element marked with a key: [marker, key, what it shows now].
MARKED = """() => {
  const found = [];
  const markers = {'data-i18n-aria-label': 'aria-label', 'data-i18n-title': 'title'};
  document.querySelectorAll('[data-i18n]').forEach((el) => found.push(['text', el.dataset.i18n, el.textContent]));
  for (const [marker, target] of Object.entries(markers)) {
    document.querySelectorAll('[' + marker + ']').forEach((el) => {
      found.push([marker, el.getAttribute(marker), el.getAttribute(target)]);
    });
  }
  return found;
}"""


# ---------- the table itself, read as text ----------


def _string(literal: str) -> str:
    if literal.startswith('"'):
        value: str = json.loads(literal)
        return value
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def strings_table() -> dict[str, dict[str, str]]:
    """console_i18n.js's STRINGS, parsed: {language: {key: text}}."""
    source = (STATIC / "console_i18n.js").read_text(encoding="utf-8")
    body = source[source.index("const STRINGS = {") : source.index("const listeners")]
    blocks = re.findall(r"^    (\w+): \{\n(.*?)^    \},$", body, re.MULTILINE | re.DOTALL)
    entry = re.compile(r"""^\s+'([\w.]+)':\s*('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"),$""")
    table: dict[str, dict[str, str]] = {}
    for lang, block in blocks:
        lines = [
            line
            for line in block.splitlines()
            if line.strip() and not line.strip().startswith("//")
        ]
        entries = [entry.match(line) for line in lines]
        unread = [line for line, match in zip(lines, entries) if match is None]
        assert not unread, f"{lang}: lines not read as 'key': 'text', {unread[:3]}"
        table[lang] = {m.group(1): _string(m.group(2)) for m in entries if m}
    return table


def _codes(script: str, name: str) -> list[str]:
    """The string codes of `const NAME = [...]` in a script."""
    match = re.search(rf"const {name} = \[(.*?)\];", script, re.DOTALL)
    assert match, name
    return re.findall(r"'(\w+)'", match.group(1))


def test_every_supervisor_string_exists_in_every_language() -> None:
    """Pure text: every key in all three languages (none empty, Korean and Japanese actually
    translated); every key the supervisor page's markup and scripts use exists; the English
    figure definitions are the server's own (handoff/agent/analytics.py)."""
    table = strings_table()
    assert set(table) == set(LANGUAGES)
    english = set(table["en"])
    assert len(english) > 200
    for lang in LANGUAGES:
        assert set(table[lang]) == english, f"{lang}: {sorted(set(table[lang]) ^ english)}"
        assert all(text.strip() for text in table[lang].values()), lang
    for lang in ("ko", "ja"):
        same = {key for key in english if table[lang][key] == table["en"][key]}
        assert same <= {"customer.id"}, f"{lang} still English: {same}"
        # every {placeholder} of the English text is in the translation too
        for key, text in table["en"].items():
            wanted = set(re.findall(r"\{(\w+)\}", text))
            assert set(re.findall(r"\{(\w+)\}", table[lang][key])) == wanted, (lang, key)

    html = (STATIC / "analytics.html").read_text(encoding="utf-8")
    in_markup = set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', html))
    assert "console_i18n.js" in html and len(in_markup) > 20
    in_scripts: set[str] = set()
    for name in ("analytics.js", "live.js", "topics.js"):
        script = (STATIC / name).read_text(encoding="utf-8")
        assert "window.maruConsoleI18n" in script, name
        in_scripts |= set(re.findall(r"'([a-z_]+(?:\.[a-z_]+)+)'", script))
    assert len(in_scripts) > 60
    assert not (in_markup | in_scripts) - english, sorted((in_markup | in_scripts) - english)

    # the codes the scripts turn into words through "<kind>.<code>" keys
    page = (STATIC / "analytics.js").read_text(encoding="utf-8")
    live = (STATIC / "live.js").read_text(encoding="utf-8")
    topics = (STATIC / "topics.js").read_text(encoding="utf-8")
    coded = [
        *(f"outcome.{c}" for c in _codes(page, "OUTCOMES")),
        *(f"reason.{c}" for c in _codes(page, "REASONS") + _codes(live, "REASONS")),
        *(f"decision.{c}" for c in _codes(page, "DECISIONS")),
        *(f"language.{c}" for c in _codes(page, "LANGUAGES") + _codes(live, "LANGUAGES")),
        *(f"live.state.{c}" for c in _codes(live, "STATES")),
        *(f"topics.kind.{c}" for c in _codes(topics, "KINDS")),
        *(f"figure.{name}" for name in (*FIGURES, "topics")),
        *(f"definition.{name}" for name in FIGURES),
    ]
    assert len(coded) > 35 and not set(coded) - english, sorted(set(coded) - english)
    assert {key for key in english if key.startswith("definition.")} == {
        f"definition.{name}" for name in FIGURES
    }
    # English shows the server's definitions word for word: a changed docstring must be
    # translated again.
    for name, text in analytics.definitions().items():
        assert table["en"][f"definition.{name}"] == text, name


# ---------- the page, in the browser ----------


@pytest.fixture(scope="module")
def report_traffic(live_stack: Stack, agents: dict[str, str]) -> str:
    """One conversation of every kind (answered, handed off, replied, resolved, rated), so
    that every figure has rows; on a thread of its own, beside the browser's event loop."""
    return beside_the_browser(_one_of_everything(live_stack.settings.gateway_url, agents["alice"]))


@pytest.fixture(scope="module")
def unanswered(live_stack: Stack) -> None:
    """A question the KB cannot answer in each language, recorded for the topics."""
    asked = beside_the_browser(_ask(live_stack.settings.gateway_url))
    deadline = time.monotonic() + 90
    while not all(recorded(live_stack, conversation_id) for conversation_id, _ in asked.values()):
        assert time.monotonic() < deadline, "the unanswered questions were never recorded"
        time.sleep(0.5)


@pytest.fixture()
def page_in(browser: Browser) -> Iterator[Any]:  # noqa: F811
    """Opens pages in browser contexts whose language is the one asked for."""
    contexts: list[BrowserContext] = []

    def open_page(lang: str) -> Page:
        context = browser.new_context(
            locale=BROWSER_LOCALES[lang], viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _api(url: str, path: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def _take_and_resolve(url: str, conversation_id: str) -> None:
    """Leave the queue as it was: alice takes the customer and resolves the chat."""
    token = _api(url, "/api/agent/login", {"username": "alice", "password": AGENT_PASSWORD})[
        "token"
    ]
    _api(url, f"/api/agent/conversations/{conversation_id}/accept", {}, token)
    _api(url, f"/api/agent/conversations/{conversation_id}/resolve", {}, token)


def sign_in_as_supervisor(page: Page, supervisor_name: str) -> None:
    page.fill("#username", supervisor_name)
    page.fill("#password", SUPERVISOR_PASSWORD)
    page.click("#login-button")
    wait_until(page, "window.maruAnalytics && window.maruAnalytics.loaded === true")
    wait_until(page, "window.maruLive && window.maruLive.connected")
    wait_until(page, "window.maruTopics && window.maruTopics.loaded === true", 90)


def assert_marked_in(page: Page, lang: str) -> None:
    """Every marked element shows its string in `lang`, and the page says it is in `lang`."""
    table: dict[str, str] = page.evaluate("window.maruConsoleI18n.STRINGS")[lang]
    marked = page.evaluate(MARKED)
    assert len(marked) > 20
    wrong = [(marker, key, shown) for marker, key, shown in marked if shown != table[key]]
    assert not wrong, f"not in {lang}: {wrong}"
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.title() == table["analytics.title"]


def assert_no_english_ui(page: Page) -> None:
    words = page.evaluate(PAGE_WORDS)
    text = page.inner_text("body")
    everything = "\n".join([text, *words])
    left = [english for english in ENGLISH_UI if english in everything]
    assert not left, f"English left: {left}"
    # no heading, header, button, label or chart legend in plain English words either
    allowed = {"#", "p50", "p90", "1", "2", "3", "4", "5", "Maru Store", "English"}
    latin = [
        w for w in words if re.fullmatch(r"[A-Za-z][A-Za-z ',.()…:-]*", w) and w not in allowed
    ]
    assert not latin, f"English labels left: {latin}"


def assert_page_in(page: Page, lang: str, conversation_id: str) -> None:
    """The whole signed-in page in `lang`: words, days, numbers and durations."""
    labels = LABELS[lang]
    assert_marked_in(page, lang)
    text = page.inner_text("body")
    for heading in HEADINGS[lang]:
        assert heading in text, heading
    expect(page.locator("#sign-out")).to_have_text(labels["sign_out"])
    expect(page.locator("#figure-outcomes button.csv")).to_have_text(labels["csv"])

    # analytics: the report's range, the charts' days and legends, tables' headers and cells
    status = page.inner_text("#status")
    assert re.match(STATUS[lang], status), status
    outcomes = page.evaluate(CHART, "chart-outcomes")
    assert outcomes["locale"] == lang
    assert outcomes["labels"] and all(re.match(AXIS_DAY[lang], d) for d in outcomes["labels"])
    assert set(labels["outcomes"]) <= set(outcomes["datasets"])
    for chart in ("chart-first_reply_wait", "chart-bot_decisions"):
        days = page.evaluate(CHART, chart)["labels"]
        assert all(re.match(AXIS_DAY[lang], d) for d in days), (chart, days)
    headers = page.locator("#figure-outcomes thead th").all_inner_texts()
    assert headers[: len(labels["outcome_headers"])] == labels["outcome_headers"]
    total = page.locator("#figure-outcomes tbody tr.total td").all_inner_texts()
    assert total[0] == labels["all_languages"]
    assert re.fullmatch(r"\d+(\.\d)?%", total[3]), total  # the deflection rate
    csat = page.locator("#figure-csat thead th").all_inner_texts()
    assert all(header in csat for header in labels["csat_headers"]), csat
    # labels (report_traffic's chat carries "refund"): named in the page's language
    label_headers = page.locator("#figure-labels thead th").all_inner_texts()
    assert label_headers == labels["label_headers"], label_headers
    named = page.locator("#figure-labels tbody td:first-child").all_inner_texts()
    assert labels["refund"] in named, named
    assert labels["refund"] in page.evaluate(CHART, "chart-labels")["labels"]
    wait = page.locator("#figure-first_reply_wait tbody tr.total td").all_inner_texts()
    assert all(re.match(DURATION[lang], cell) for cell in wait[2:5]), wait

    # the live view: the waiting customer, in the page's words, with a counting wait
    row = page.locator(f"#live-chats tr[data-conversation-id='{conversation_id}']")
    expect(row).to_be_visible(timeout=20_000)
    expect(row.locator(".chat-state")).to_have_text(labels["queued"])
    expect(row.locator(".chat-reason")).to_have_text(labels["reason"])
    expect(row.locator("button.reassign")).to_have_text(labels["reassign"])
    assert re.match(DURATION[lang], row.locator(".chat-wait").inner_text())
    chat_headers = page.locator("#live-chats thead th").all_inner_texts()
    assert chat_headers[: len(labels["chat_headers"])] == labels["chat_headers"]
    agent_headers = page.locator("#live-agents thead th").all_inner_texts()
    assert agent_headers[: len(labels["agent_headers"])] == labels["agent_headers"]
    stamp = page.inner_text("#live-stamp")
    assert re.match(LIVE_STAMP[lang], stamp), stamp

    # the topics: headers and the summary line in the page's language
    topic_headers = page.locator("#topics-table thead th").all_inner_texts()
    assert topic_headers[1:] == labels["topic_headers"], topic_headers
    topics_status = page.inner_text("#topics-status")
    assert re.match(TOPICS_STATUS[lang], topics_status), topics_status
    assert page.evaluate(CHART, "chart-topics")["locale"] == lang
    if lang in ("ko", "ja"):
        assert_no_english_ui(page)


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_supervisor_page_speaks_the_supervisors_language(
    live_stack: Stack,
    agents: dict[str, str],
    supervisor: str,  # noqa: F811
    report_traffic: str,
    unanswered: None,
    page_in: Any,
    lang: str,
) -> None:
    url = live_stack.settings.gateway_url
    conversation_id = queue_customer(url, lang)  # waits in the live view
    page: Page = page_in(lang)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # the sign-in screen already follows the browser's language
        page.goto(f"{url}/agent/analytics")
        assert_marked_in(page, lang)
        expect(page.locator("#login-button")).to_have_text(LABELS[lang]["login"])
        assert page.input_value("#ui-language-login") == lang
        sign_in_as_supervisor(page, supervisor)
        assert page.input_value("#ui-language") == lang
        assert_page_in(page, lang, conversation_id)

        # switched: the page is redrawn in the other language at once, and stays after a reload
        other = LANGUAGES[(LANGUAGES.index(lang) + 1) % len(LANGUAGES)]
        page.select_option("#ui-language", other)
        assert_page_in(page, other, conversation_id)
        page.reload()
        sign_in_wait = "window.maruAnalytics && window.maruAnalytics.loaded === true"
        wait_until(page, sign_in_wait)  # the session is kept: no sign-in
        wait_until(page, "window.maruTopics && window.maruTopics.loaded === true", 90)
        wait_until(page, "window.maruLive && window.maruLive.frames > 0")
        assert page.input_value("#ui-language") == other
        assert_page_in(page, other, conversation_id)
        assert errors == []
    finally:
        _take_and_resolve(url, conversation_id)


@pytest.mark.e2e
@pytest.mark.browser
def test_the_agent_consoles_choice_is_the_supervisor_pages(
    live_stack: Stack,
    supervisor: str,  # noqa: F811
    page_in: Any,
) -> None:
    """One choice for both pages: picked in the agent console (an English browser), the
    analytics page opens in it, and a choice made there is the console's too."""
    url = live_stack.settings.gateway_url
    page: Page = page_in("en")
    page.goto(f"{url}/agent")
    page.select_option("#ui-language-login", "ja")
    page.goto(f"{url}/agent/analytics")
    assert_marked_in(page, "ja")
    assert page.input_value("#ui-language-login") == "ja"
    expect(page.locator("#login-button")).to_have_text(LABELS["ja"]["login"])
    # a wrong password, said in the chosen language; then switched here, said again in Korean
    page.fill("#username", supervisor)
    page.fill("#password", "not-the-password")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_have_text(
        "ユーザー名またはパスワードが正しくありません。"
    )
    page.select_option("#ui-language-login", "ko")
    expect(page.locator("#login-error")).to_have_text("아이디 또는 비밀번호가 올바르지 않습니다.")
    page.goto(f"{url}/agent")
    expect(page.locator("#login-button")).to_have_text(LABELS["ko"]["login"])
    assert page.input_value("#ui-language-login") == "ko"
