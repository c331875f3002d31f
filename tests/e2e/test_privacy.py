"""Personal data on the real stack: a customer gives a card number, national ids, an email
and phone numbers (ko / ja / en; over HTTP and the websocket; a question the KB cannot
answer, one an agent takes). Afterwards no file the stack wrote holds a card number or a
national id; the email and phones are only in the gateway's transcript; every file is
for our user alone."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from pathlib import Path

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, accepted
from tests.e2e.test_websocket import frames_until, open_socket

pytestmark = pytest.mark.e2e

CARD = "4012 8888 8888 1881"  # a Visa test number (passes Luhn)
RRN = "900101-1234567"
MY_NUMBER = "123456789018"
EMAIL = "pii.probe@example.com"
PHONE_KO, PHONE_JA, PHONE_EN = "010-9876-5432", "090-8765-4321", "+1 415 555 0199"

# Each value as it might be written anywhere: as typed, without separators, regrouped.
SECRETS = {
    "card": [CARD, "4012888888881881", "4012-8888-8888-1881"],
    "rrn": [RRN, "9001011234567"],
    "my number": [MY_NUMBER, "1234 5678 9018", "1234-5678-9018"],
}
CONTACTS = {
    "email": [EMAIL],
    "phone ko": [PHONE_KO, "01098765432", "9876-5432"],
    "phone ja": [PHONE_JA, "09087654321", "8765-4321"],
    "phone en": [PHONE_EN, "4155550199", "555 0199"],
}

MESSAGES = [
    # (language, over the websocket, text)
    ("ko", False, f"카드 {CARD} 로 결제했는데 환불돼요? 연락처는 {PHONE_KO} 예요"),
    ("ja", True, f"マイナンバーは{MY_NUMBER}です。メールは {EMAIL} です。返金はいつですか"),
    # out of scope: abstains, so it is recorded for designers
    (
        "en",
        False,
        f"what's the weather in seoul tomorrow? my RRN is {RRN}, call me at {PHONE_EN}",
    ),
]


def _found(data: bytes, probes: dict[str, list[str]]) -> list[str]:
    return [name for name, forms in probes.items() if any(f.encode() in data for f in forms)]


def _stack_files(stack: Stack) -> list[Path]:
    """Everything the stack wrote: its state folder (databases, Rasa's trackers, the
    unanswered records, supervisor files) and its logs (named by its ports)."""
    s = stack.settings
    ports = {str(s.gateway_port), str(s.rasa_port), str(s.action_port)}
    state = [p for p in s.db_path.parent.rglob("*") if p.is_file()]
    logs = [p for p in s.log_dir.iterdir() if p.is_file() and any(x in p.name for x in ports)]
    return state + logs


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} in a table")


async def test_personal_data_stays_where_it_belongs(
    live_stack: Stack, agents: dict[str, str]
) -> None:
    s = live_stack.settings
    url = s.gateway_url
    async with aiohttp.ClientSession() as session:
        for language, over_websocket, text in MESSAGES:
            customer = await Customer(session, url).start(language=language)
            if over_websocket:
                ws = await open_socket(session, url, customer)
                await frames_until(ws, lambda f, _: f["type"] == "ready")
                await ws.send_json({"type": "message", "client_id": "p1", "text": text})
                await frames_until(ws, lambda f, _: f == {"type": "typing", "on": False})
                await ws.close()
            else:
                result = await customer.say(text)
                assert result["replies"], result
            shown = (await customer.transcript())["messages"][0]["text"]
            for name in _found(shown.encode(), SECRETS):
                pytest.fail(f"the {name} is in the transcript: {shown}")

        # one that an agent takes: the agent sees the contact details, not the card
        customer = await Customer(session, url).start(language="ko")
        await customer.ask_for_a_person(
            f"카드 {CARD} 환불이요. 메일 {EMAIL}, 전화 {PHONE_KO}, 주민번호 {RRN}",
            "상담원 연결해 주세요",
        )
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        [item] = [
            i for i in await agent.queue() if i["conversation_id"] == customer.conversation_id
        ]
        assert _found(json.dumps(item, ensure_ascii=False).encode(), CONTACTS) == []
        view = await accepted(agent, customer)
        first = view["transcript"][0]["text"]
        assert EMAIL in first and PHONE_KO in first and "****-****-****-1881" in first
        assert _found(first.encode(), SECRETS) == []
        status, _ = await agent.call(
            "GET", f"/api/agent/conversations/{customer.conversation_id}/suggestions"
        )
        assert status == 200
        await agent.resolve(customer.conversation_id)

    await asyncio.sleep(1.0)  # supervisord copies the programs' output to their logs
    records = [json.loads(line) for line in s.unanswered_path.read_text("utf-8").splitlines()]
    assert any(RRN[:6] not in r["query"] and "weather" in r["query"] for r in records)

    files = _stack_files(live_stack)
    assert s.rasa_tracker_db in files and s.unanswered_path in files
    assert any(p.name.startswith("actions-") for p in files)
    conversation_db = {s.db_path, s.db_path.with_name(s.db_path.name + "-wal")}
    for path in files:
        data = path.read_bytes()
        assert _found(data, SECRETS) == [], path
        if path not in conversation_db:
            assert _found(data, CONTACTS) == [], path

    # In the gateway's database, only the transcript holds the contact details: not the
    # handoff's summary and context, nor anything else. The transcript's own search index
    # (FTS5 `search_text` and its shadow tables, migration 0006: what agents search by, in
    # the same file) holds the same text, as PostgreSQL's trigram indexes do there.
    with sqlite3.connect(s.db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "search_text" in tables
        for table in tables:
            if table == "messages" or table.startswith("search_text"):
                continue
            # The email outbox (migration 0010) must hold a ticket reply's recipient until
            # the mail is sent (the address is needed to send it); once sent or given up
            # on the address is blanked, so those rows are checked like every other table.
            where = " WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL"
            rows = json.dumps(
                db.execute(
                    f"SELECT * FROM {table}{where if table == 'email_outbox' else ''}"
                ).fetchall(),
                ensure_ascii=False,
                default=_as_text,  # an attachment's bytes: searched as text too
            )
            assert _found(rows.encode(), CONTACTS) == [], table
        said = json.dumps(db.execute("SELECT text FROM messages").fetchall(), ensure_ascii=False)
    assert EMAIL in said and PHONE_KO in said

    # Files 0600, folders 0700 (kb/ and kb-index/ are the fixture's copies of the KB).
    copies = {s.kb_dir, s.kb_index_dir}
    state = s.db_path.parent
    made = [p for p in state.rglob("*") if not any(c == p or c in p.parents for c in copies)]
    made += [p for p in files if p.parent == s.log_dir] + [s.log_dir]
    for path in made:
        mode = path.lstat().st_mode
        if stat.S_ISSOCK(mode):
            continue  # supervisord's control socket: its folder is 0700
        expected = 0o700 if stat.S_ISDIR(mode) else 0o600
        assert stat.S_IMODE(mode) == expected, f"{path}: {oct(stat.S_IMODE(mode))}"
