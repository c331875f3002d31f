"""Attachments on the real stack (a gateway of this module's own beside it, on its Rasa):
a customer and the agent who holds the chat send images and PDFs both ways, see them live
and fetch them; the type comes from the bytes; another conversation's token or attachment
is a 404; oversized bodies are refused while they stream (413), floods 429, malformed
uploads 400 JSON; file names and contents stay out of the gateway's log."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from PIL import Image
from yarl import URL

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, agent_socket, handed_to
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_websocket import frames_until

pytestmark = pytest.mark.e2e

NAME = "attachments-gateway"
PASSWORD = "attach-password-5"
HOLDER, OTHER = "ayumi", "bora"
# In every upload's bytes and never in the log.
CONTENT_MARKER = b"SECRET-CONTENT-7f3a"
PDF = b"%PDF-1.4\n% " + CONTENT_MARKER + b"\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
NAMES = {"ko": "영수증-사진.png", "ja": "領収書の写真.png", "en": "receipt photo.png"}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 120, 200)).save(out, "PNG")
    return out.getvalue() + CONTENT_MARKER  # trailing bytes: Pillow reads the PNG anyway


@pytest.fixture(scope="module")
def own_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp(NAME)
    with gateway_beside(
        live_stack.settings,
        state,
        NAME,
        agents=[(HOLDER, PASSWORD), (OTHER, PASSWORD)],
    ) as url:
        yield url


def gateway_log(live_stack: Stack) -> str:
    return (live_stack.settings.log_dir / f"{NAME}.log").read_text(errors="replace")


def form(name: str, data: bytes, field: str = "file") -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field(field, data, filename=name, content_type="application/octet-stream")
    return body


async def upload(
    session: aiohttp.ClientSession, url: str, token: str, body: Any
) -> tuple[int, Any, dict[str, str]]:
    async with session.post(url, data=body, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.content_type == "application/json", await r.text()
        return r.status, await r.json(), dict(r.headers)


async def download(
    session: aiohttp.ClientSession, url: str, token: str
) -> tuple[int, bytes, dict[str, str]]:
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.read(), dict(r.headers)


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
async def test_customer_and_agent_send_each_other_files(
    live_stack: Stack,
    own_gateway: str,
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    url = own_gateway
    image = png()
    async with aiohttp.ClientSession() as session:
        holder = await AgentClient(session, url).login(HOLDER, PASSWORD)
        other = await AgentClient(session, url).login(OTHER, PASSWORD)
        customer = await Customer(session, url).start(language)
        await handed_to(holder, customer, question, ask_person)
        cid = customer.conversation_id
        agent_ws = await agent_socket(session, url, holder)

        # the customer sends a PNG: stored, described in a message the agent sees live
        path = f"{url}/api/conversations/{cid}/attachments"
        status, sent, _ = await upload(session, path, customer.token, form(NAMES[language], image))
        assert status == 201, sent
        attachment = sent["attachment"]
        assert attachment["content_type"] == "image/png"
        assert (attachment["name"], attachment["size"]) == (NAMES[language], len(image))
        assert sent["message"]["role"] == "customer"
        frames = await frames_until(
            agent_ws,
            lambda f, _: (
                f["type"] == "message" and f.get("attachment", {}).get("id") == attachment["id"]
            ),
        )
        assert frames[-1]["conversation_id"] == cid and frames[-1]["role"] == "customer"

        # the agent fetches it: the bytes, their type, inline, nosniff, sandboxed
        agent_path = f"{url}/api/agent/conversations/{cid}/attachments/{attachment['id']}"
        status, body, headers = await download(session, agent_path, holder.token)
        assert (status, body) == (200, image)
        assert headers["Content-Type"] == "image/png"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"].startswith("inline; filename*=UTF-8''")
        assert "sandbox" in headers["Content-Security-Policy"]
        assert "no-store" in headers["Cache-Control"]
        # and the transcript in the console's view carries it
        status, view = await holder.call("GET", f"/api/agent/conversations/{cid}")
        assert attachment in [m.get("attachment") for m in view["transcript"]]
        # an agent with nothing to do with the chat: 404, as for an unknown id
        status, body, _ = await download(session, agent_path, other.token)
        assert status == 404
        status, refused, _ = await upload(
            session,
            f"{url}/api/agent/conversations/{cid}/attachments",
            other.token,
            form("x.pdf", PDF),
        )
        assert status == 403 and refused["error"]["code"] == "not_yours"

        # the agent sends a PDF back: a download for the customer, named as sent
        status, reply, _ = await upload(
            session,
            f"{url}/api/agent/conversations/{cid}/attachments",
            holder.token,
            form("환불 안내 (refund).pdf", PDF),
        )
        assert status == 201, reply
        pdf = reply["attachment"]
        assert pdf["content_type"] == "application/pdf"
        transcript = (await customer.transcript())["messages"]
        assert [m["role"] for m in transcript if m.get("attachment")] == ["customer", "agent"]
        status, body, headers = await download(
            session, f"{url}/api/conversations/{cid}/attachments/{pdf['id']}", customer.token
        )
        assert (status, body) == (200, PDF)
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"] == (
            "attachment; filename*=UTF-8''"
            "%ED%99%98%EB%B6%88%20%EC%95%88%EB%82%B4%20%28refund%29.pdf"
        )
        assert headers["X-Content-Type-Options"] == "nosniff"

        # another customer: their own conversation does not hold this conversation's
        # attachment (404, never a 403 that would say it exists); their token does not
        # open this conversation (403, as on every customer route, whatever the id)
        stranger = await Customer(session, url).start(language)
        own = f"{url}/api/conversations/{stranger.conversation_id}/attachments"
        assert (await download(session, f"{own}/{pdf['id']}", stranger.token))[0] == 404
        assert (await download(session, f"{own}/no-such-id", stranger.token))[0] == 404
        theirs = f"{url}/api/conversations/{cid}/attachments"
        found = await download(session, f"{theirs}/{pdf['id']}", stranger.token)
        unknown = await download(session, f"{theirs}/no-such-id", stranger.token)
        assert found[0] == unknown[0] == 403 and found[1] == unknown[1]
        async with session.get(f"{url}/api/conversations/{cid}/attachments/{pdf['id']}") as r:
            assert r.status == 401
        await agent_ws.close()
        await holder.resolve(cid)

    log = gateway_log(live_stack)
    assert NAMES[language] not in log and CONTENT_MARKER.decode() not in log
    assert "Traceback" not in log


async def test_types_come_from_the_bytes_and_bad_uploads_are_4xx_json(
    live_stack: Stack, own_gateway: str
) -> None:
    url = own_gateway
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start("en")
        path = f"{url}/api/conversations/{customer.conversation_id}/attachments"
        token = customer.token

        # a PNG named .pdf is a PNG; HTML named .png is refused, naming what is allowed
        status, sent, _ = await upload(session, path, token, form("scan.pdf", png()))
        assert status == 201 and sent["attachment"]["content_type"] == "image/png"
        html = b"<!doctype html><script>alert(document.cookie)</script>"
        status, refused, _ = await upload(session, path, token, form("cat.png", html))
        assert status == 415
        assert refused["error"]["code"] == "unsupported_type"
        assert "application/pdf" in refused["error"]["allowed_types"]

        # no file part, another field, two files, JSON, an empty file, broken multipart
        two = form("a.pdf", PDF)
        two.add_field("file", PDF, filename="b.pdf")
        cases: list[tuple[Any, dict[str, str]]] = [
            (form("a.pdf", PDF, field="document"), {}),
            (two, {}),
            (b'{"file": "x"}', {"Content-Type": "application/json"}),
            (form("empty.pdf", b""), {}),
            (
                b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n%PDF-',
                {"Content-Type": "multipart/form-data; boundary=xyz"},
            ),
            (b"garbage", {"Content-Type": "multipart/form-data"}),
            (b"\xff" * 100, {"Content-Type": "multipart/form-data; boundary=zz"}),
        ]
        for body, headers in cases:
            async with session.post(
                path, data=body, headers={"Authorization": f"Bearer {token}", **headers}
            ) as r:
                assert r.status == 400, (await r.text(), headers)
                assert r.content_type == "application/json"
                assert (await r.json())["error"]["code"]
    log = gateway_log(live_stack)
    assert "Traceback" not in log and "Error handling request" not in log


async def test_an_oversized_file_is_refused_while_it_streams(own_gateway: str) -> None:
    url = URL(own_gateway)
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, str(url)).start("ko")
    path = f"/api/conversations/{customer.conversation_id}/attachments"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Authorization: Bearer {customer.token}\r\n"
        "Content-Type: multipart/form-data; boundary=cap\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(head)
        part = b'--cap\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
        chunk = b"%PDF-" + b"0" * (256 * 1024 - 5)
        sent = 0
        # 6 MB on offer; the gateway answers once it passes 5 MB, before the body ends
        # (which never comes: no final chunk is sent)
        answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
        while sent < 6 * 1024 * 1024 and not answer.done():
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent += len(chunk)
        head_bytes = await asyncio.wait_for(answer, 20)
        assert head_bytes.startswith(b"HTTP/1.1 413"), head_bytes
        assert b"application/json" in head_bytes
    finally:
        writer.close()

    # a body that declares more than the cap is refused before any of it is read: 100
    # bytes of the 6 MB it announces are sent, and the answer comes all the same
    declared = head.replace(b"Transfer-Encoding: chunked", b"Content-Length: %d" % (6 << 20))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(declared + b"x" * 100)
        await writer.drain()
        head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        assert head_bytes.startswith(b"HTTP/1.1 413"), head_bytes
        # the limit comes with the refusal, so a client says it in its own words
        length = re.search(rb"(?i)content-length: *(\d+)", head_bytes)
        assert length is not None, head_bytes
        refused = json.loads(await asyncio.wait_for(reader.readexactly(int(length[1])), 20))
        assert refused["error"]["code"] == "too_large"
        assert refused["error"]["max_bytes"] == 5 * 1024 * 1024
    finally:
        writer.close()


async def test_uploads_per_conversation_are_rate_limited(own_gateway: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, own_gateway).start("ja")
        path = f"{own_gateway}/api/conversations/{customer.conversation_id}/attachments"
        statuses = []
        for n in range(11):
            status, body, headers = await upload(
                session, path, customer.token, form(f"{n}.pdf", PDF)
            )
            statuses.append(status)
        assert statuses == [201] * 10 + [429]
        assert body["error"]["code"] == "rate_limited" and int(headers["Retry-After"]) >= 1
        # another conversation is not held up
        fresh = await Customer(session, own_gateway).start("ja")
        status, _, _ = await upload(
            session,
            f"{own_gateway}/api/conversations/{fresh.conversation_id}/attachments",
            fresh.token,
            form("ok.pdf", PDF),
        )
        assert status == 201
