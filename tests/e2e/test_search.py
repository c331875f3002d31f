"""Agents' conversation search over HTTP (handoff/agent/search_api.py), on a gateway of this
module's own (its own database: results are this module's conversations only) beside the
live stack's Rasa and action server: customers write in Korean, Japanese and English, an
agent finds each by a phrase from the middle, filters by state and day, opens the
read-only transcript, and hostile queries get a 400 naming the parameter."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stack.launcher import Stack
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_notes_browser import call

pytestmark = pytest.mark.e2e

AGENT = "sena"
PASSWORD = "search-agent-password-3"
# (language, customer, what they write); each searched by a phrase from its middle.
CUSTOMERS = [
    ("ja", {"name": "山田 花子", "email": "hanako@example.jp"}, "昨日買った靴を返品したいです"),
    ("ko", {"name": "김민수"}, "환불은 언제 되나요"),
    ("en", {"name": "Pat Lee"}, "My parcel 100% arrived broken_box today"),
]
ASK_PERSON = "상담원 연결해 주세요"


@pytest.fixture(scope="module")
def search_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("search-gateway")
    with gateway_beside(
        live_stack.settings, state, "search-gateway", agents=[(AGENT, PASSWORD)]
    ) as url:
        yield url


def customer_says(url: str, language: str, customer: dict[str, str], *lines: str) -> str:
    """A customer's conversation in which they wrote `lines` (each answered by the bot)."""
    started = call(
        url, "POST", "/api/conversations", body={"language": language, "customer": customer}
    )
    for line in lines:
        path = f"/api/conversations/{started['conversation_id']}/messages"
        call(url, "POST", path, started["token"], {"text": line})
    return str(started["conversation_id"])


def agent_token(url: str) -> str:
    signed_in = call(
        url, "POST", "/api/agent/login", body={"username": AGENT, "password": PASSWORD}
    )
    return str(signed_in["token"])


def get(url: str, path: str, token: str) -> tuple[int, Any]:
    """GET `path` (already encoded) as the agent: (status, JSON body), errors included."""
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def search(url: str, token: str, **query: str) -> list[dict[str, Any]]:
    status, body = get(url, "/api/agent/search?" + urllib.parse.urlencode(query), token)
    assert status == 200, body
    assert body["count"] == len(body["results"]) and body["limit"] == 50
    return list(body["results"])


@pytest.fixture(scope="module")
def written(search_gateway: str) -> dict[str, str]:
    """language -> that language's customer's conversation; "ko" asked for a person after
    (queued, and the most recently active), "ko_earlier" said the same before."""
    ids = {lang: customer_says(search_gateway, lang, who, text) for lang, who, text in CUSTOMERS}
    ids["ko_earlier"] = ids["ko"]
    ids["ko"] = customer_says(search_gateway, "ko", CUSTOMERS[1][1], CUSTOMERS[1][2], ASK_PERSON)
    return ids


def test_a_phrase_from_the_middle_finds_each_language(
    search_gateway: str, written: dict[str, str]
) -> None:
    token = agent_token(search_gateway)
    [ja] = search(search_gateway, token, q="返品したい")
    assert ja["conversation_id"] == written["ja"] and ja["found_in"] == "message"
    assert ja["customer_name"] == "山田 花子" and "返品したい" in ja["snippet"]
    korean = search(search_gateway, token, q="환불")
    # both Korean conversations said it (two syllables, particle attached); newest first
    assert [hit["conversation_id"] for hit in korean] == [written["ko"], written["ko_earlier"]]
    # the snippet is the newest matching line: the customer's, or the bot's answer to it
    assert all("환불" in hit["snippet"] for hit in korean)
    [en] = search(search_gateway, token, q="PARCEL 100%")
    assert en["conversation_id"] == written["en"] and en["language"] == "en"
    assert [h["conversation_id"] for h in search(search_gateway, token, q="n_b")] == [written["en"]]
    assert search(search_gateway, token, q="%%") == []
    [by_email] = search(search_gateway, token, q="hanako@example")
    assert by_email["found_in"] == "customer" and by_email["conversation_id"] == written["ja"]


def test_filters_by_state_and_day(search_gateway: str, written: dict[str, str]) -> None:
    token = agent_token(search_gateway)
    queued = search(search_gateway, token, state="queued")
    assert [hit["conversation_id"] for hit in queued] == [written["ko"]]
    assert queued[0]["state"] == "queued"
    assert search(search_gateway, token, q="환불", state="resolved") == []
    today = datetime.now(UTC).date()
    found = search(search_gateway, token, q="返品", **{"from": str(today), "to": str(today)})
    assert [hit["conversation_id"] for hit in found] == [written["ja"]]
    assert search(search_gateway, token, q="返品", **{"from": str(today + timedelta(days=1))}) == []


def test_a_result_opens_the_read_only_transcript(
    search_gateway: str, written: dict[str, str]
) -> None:
    token = agent_token(search_gateway)
    status, view = get(
        search_gateway, f"/api/agent/conversations/{written['ja']}/transcript", token
    )
    assert status == 200, view
    assert view["conversation_id"] == written["ja"] and view["language"] == "ja"
    assert view["customer"]["name"] == "山田 花子"
    lines = view["transcript"]
    assert lines[0]["role"] == "customer" and lines[0]["text"] == CUSTOMERS[0][2]
    assert any(line["role"] == "bot" for line in lines)  # the bot's answer is in it too
    assert "notes" not in view and "token" not in json.dumps(view)
    status, error = get(search_gateway, "/api/agent/conversations/no-such-id/transcript", token)
    assert status == 404 and error["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("q=" + urllib.parse.quote("가" * 201), "'q'"),
        ("", "'q'"),
        ("q=%20%20", "'q'"),
        ("q=%00%01", "'q'"),
        ("from=2026-02-30", "'from'"),
        ("from=yesterday", "'from'"),
        ("to=2026-1-1", "'to'"),
        ("from=2026-12-02&to=2026-12-01", "'from'"),
        ("state=closed", "'state'"),
        ("state=bot&state=x&page=2", "page"),
        ("q[]=x", "q[]"),
    ],
)
def test_hostile_queries_are_refused_with_the_parameter_named(
    search_gateway: str, query: str, named: str
) -> None:
    token = agent_token(search_gateway)
    status, body = get(search_gateway, "/api/agent/search?" + query, token)
    assert status == 400, body
    assert named in body["error"]["message"]


def test_odd_text_is_searched_as_text_and_never_breaks_the_gateway(
    search_gateway: str, written: dict[str, str]
) -> None:
    token = agent_token(search_gateway)
    # a lone surrogate's UTF-8 bytes, invalid UTF-8, quotes and FTS syntax: just no match
    for raw in ("%ED%A0%80", "%FF%FE", "%22%22%22", "NEAR(a%20b)", "a*%20OR%20b", "%5C"):
        status, body = get(search_gateway, "/api/agent/search?q=" + raw, token)
        assert status == 200 and body["results"] == [], (raw, body)
    status, _ = get(search_gateway, "/api/agent/search?q=x", "not-a-token")
    assert status == 401
