"""A verified customer's earlier conversations (handoff/customer/history.py): the history
token, and the two routes on a real app with a real SQLite store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.customer import history
from handoff.customer.identity import sign, signed_fields
from handoff.web.app import create_app
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, STRANGER, free_port

SECRET = "unit-test-identity-secret"
NOW = 1_800_000_000
MINA = {"id": "cust-mina", "email": "mina@example.com", "name": "김민아"}


# -- the history token ---------------------------------------------------------------


def test_a_token_names_its_customer_until_it_expires() -> None:
    token, expires = history.issue_token(SECRET, "고객-7", NOW + 3600, now=NOW)
    assert expires == NOW + history.HISTORY_TOKEN_SECONDS
    assert history.customer_of_token(SECRET, token, now=NOW + 1) == "고객-7"
    assert history.customer_of_token(SECRET, token, now=expires) is None
    assert history.customer_of_token("another secret", token, now=NOW + 1) is None


def test_a_token_never_outlives_the_identity_it_came_from() -> None:
    _, expires = history.issue_token(SECRET, "c", NOW + 60, now=NOW)
    assert expires == NOW + 60


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("h1.", "h2.", 1),
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # the MAC
        lambda t: ".".join([*t.split(".")[:2], "b3RoZXI", t.split(".")[3]]),  # another id
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) + 1), *t.split(".")[2:]]),
        lambda t: t + ".x",
        lambda t: "h1..." + "0" * 64,
        lambda t: "h1.99999999999.%%%.00",
        lambda t: t + "a" * history.MAX_TOKEN_CHARS,
        lambda t: "h1.9999999999.\ud800.abc",
    ],
)
def test_an_altered_or_malformed_token_names_nobody(change: Any) -> None:
    token, _ = history.issue_token(SECRET, "cust-1", NOW + 3600, now=NOW)
    assert history.customer_of_token(SECRET, change(token), now=NOW + 1) is None


def test_a_token_is_no_identity_signature_and_no_secret_opens_nothing() -> None:
    token, expires = history.issue_token(SECRET, "cust-1", NOW + 3600, now=NOW)
    # The MAC is under a key of its own: not the signature of the same fields.
    assert token.split(".")[3] != sign(SECRET, {"id": "cust-1"}, expires)
    assert history.customer_of_token("", token, now=NOW + 1) is None


# -- the routes ----------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the bot is "down", which is fine here
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
        identity_secret=SECRET,
        searches_per_address_per_minute=60,  # a burst of 6
    )
    test_client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def _start(client: TestClient[Any, Any], body: dict[str, Any], text: str) -> str:
    started = await client.post("/api/conversations", json={"language": "ko", **body})
    assert started.status == 201, await started.text()
    data = await started.json()
    sent = await client.post(
        f"/api/conversations/{data['conversation_id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    assert sent.status == 200, await sent.text()
    return str(data["conversation_id"])


async def test_a_verified_customer_gets_their_conversations_and_nothing_else(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    mine = await _start(client, signed_fields(SECRET, MINA, 600), "배송 언제 와요?")
    # Typed, not signed: the same id and email link nothing.
    await _start(client, {"customer": MINA}, "I am Mina too")
    other = await _start(client, signed_fields(SECRET, {"id": "cust-other"}, 600), "hi")
    # Opened and left without a word: nothing to look back at.
    await client.post("/api/conversations", json=signed_fields(SECRET, MINA, 600))

    caplog.set_level(logging.INFO)
    listed = await client.post("/api/customers/history", json=signed_fields(SECRET, MINA, 600))
    assert listed.status == 200, await listed.text()
    body = await listed.json()
    assert [c["conversation_id"] for c in body["conversations"]] == [mine]
    assert body["conversations"][0]["state"] in {"bot", "queued"}
    assert body["conversations"][0]["preview"]
    assert MINA["email"] not in caplog.text

    auth = {"Authorization": f"Bearer {body['history_token']}"}
    opened = await client.get(f"/api/customers/history/{mine}", headers=auth)
    assert opened.status == 200
    transcript = await opened.json()
    assert transcript["messages"][0] == {**transcript["messages"][0], "text": "배송 언제 와요?"}
    refused = await client.get(f"/api/customers/history/{other}", headers=auth)
    assert refused.status == 403
    unknown = await client.get("/api/customers/history/no-such-id", headers=auth)
    assert (unknown.status, await unknown.json()) == (403, await refused.json())


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"identity_signature": "0" * 64}, "invalid_identity_signature"),
        ({"identity_expires": NOW - 10**9}, "identity_expired"),
        ({"identity_signature": None}, "invalid_identity"),
        ({"customer": "mina"}, "invalid_identity"),
        ({"customer": {"email": "a@b"}}, "invalid_identity"),
        ({"identity_expires": "soon"}, "invalid_identity"),
        ({"identity_signature": "f" * 129}, "invalid_identity"),
        ({"customer": {**MINA, "name": "x" * 201}}, "invalid_identity"),
    ],
)
async def test_an_identity_that_cannot_be_accepted_is_a_clear_400(
    client: TestClient[Any, Any], change: dict[str, Any], code: str
) -> None:
    body = {**signed_fields(SECRET, MINA, 600), **change}
    answer = await client.post("/api/customers/history", json=body)
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert error["code"] == code and error["message"]


async def test_malformed_bodies_and_lone_surrogates_are_400_json(
    client: TestClient[Any, Any],
) -> None:
    for raw in (b"{", b"[]", b'{"customer": {"id": "\\ud800"}}', b"x" * 70_000):
        answer = await client.post(
            "/api/customers/history", data=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status in {400, 413}, raw[:20]
        assert (await answer.json())["error"]["message"]


async def test_a_missing_or_forged_history_token_is_a_clear_401(
    client: TestClient[Any, Any],
) -> None:
    no_token = await client.get("/api/customers/history/c-1")
    assert no_token.status == 401
    token, _ = history.issue_token("not this gateway's secret", "cust-mina", 2**40)
    forged = await client.get(
        "/api/customers/history/c-1", headers={"Authorization": f"Bearer {token}"}
    )
    assert forged.status == 401
    assert (await forged.json())["error"]["code"] == "invalid_history_token"


async def test_history_reads_are_limited_per_address(client: TestClient[Any, Any]) -> None:
    body = signed_fields(SECRET, MINA, 600)
    statuses = [
        (await client.post("/api/customers/history", json=body, headers=STRANGER)).status
        for _ in range(8)
    ]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    limited = await client.post("/api/customers/history", json=body, headers=STRANGER)
    assert int(limited.headers["Retry-After"]) >= 1
    # A client on the gateway's own machine is not counted per address.
    local = [(await client.post("/api/customers/history", json=body)).status for _ in range(8)]
    assert local == [200] * 8
