"""Host-signed customer identity: signing, verification, and who gets linked."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from handoff.customer.identity import (
    MAX_LIFETIME_SECONDS,
    IdentityError,
    canonical,
    identity_from_request,
    sign,
    signed_fields,
)
from handoff.store.sqlite import SQLiteStore
from stack.settings import PROJECT_ROOT

SECRET = "host-site-shared-secret"
NOW = 1_800_000_000.0
MINA = {"id": "cust-7", "email": "mina@example.com", "name": "김민아"}


def _body(customer: dict[str, str], secret: str = SECRET, ttl: int = 600) -> dict[str, Any]:
    return signed_fields(secret, customer, ttl, now=NOW)


def _flip_last(signature: str) -> str:
    return signature[:-1] + ("1" if signature[-1] == "0" else "0")


def test_a_valid_signature_verifies() -> None:
    identity = identity_from_request(_body(MINA), SECRET, now=NOW)
    assert identity.verified
    assert identity.customer == MINA
    assert identity.stored() == {**MINA, "verified": True}


def test_the_canonical_form_is_documented_text() -> None:
    expires = 1_800_000_600
    assert canonical(MINA, expires) == ("v1\ncust-7\nmina@example.com\n김민아\n1800000600".encode())
    # What a host site in any language computes: HMAC-SHA256 over those bytes, in hex.
    expected = hmac.new(
        SECRET.encode(), "v1\ncust-7\nmina@example.com\n김민아\n1800000600".encode(), hashlib.sha256
    ).hexdigest()
    assert sign(SECRET, MINA, expires) == expected
    assert canonical({"id": "x"}, 5) == b"v1\nx\n\n\n5"  # absent fields are empty


@pytest.mark.parametrize("name", ["김민아", "山田花子", "やまだ はなこ", "Ｍｉｎａ", "José"])
def test_ko_ja_names_sign_the_same_composed_or_decomposed(name: str) -> None:
    """A host framework may hand over NFD text (Hangul jamo, kana + combining marks)."""
    composed = {**MINA, "name": unicodedata.normalize("NFC", name)}
    decomposed = {**MINA, "name": unicodedata.normalize("NFD", name)}
    body = _body(decomposed)
    identity = identity_from_request(body, SECRET, now=NOW)
    assert identity.verified
    assert identity.customer["name"] == unicodedata.normalize("NFC", name)
    assert identity_from_request({**body, "customer": composed}, SECRET, now=NOW).verified


def test_an_expired_signature_is_refused() -> None:
    body = _body(MINA, ttl=60)
    assert identity_from_request(body, SECRET, now=NOW + 59).verified
    for later in (NOW + 60, NOW + 3600):
        with pytest.raises(IdentityError) as refused:
            identity_from_request(body, SECRET, now=later)
        assert refused.value.code == "identity_expired"


def test_a_signature_good_for_too_long_is_refused() -> None:
    body = _body(MINA, ttl=MAX_LIFETIME_SECONDS + 60)
    with pytest.raises(IdentityError) as refused:
        identity_from_request(body, SECRET, now=NOW)
    assert refused.value.code == "invalid_identity"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: {**b, "customer": {**b["customer"], "id": "cust-8"}},
        lambda b: {**b, "customer": {**b["customer"], "email": "someone@example.com"}},
        lambda b: {**b, "customer": {**b["customer"], "name": "김민수"}},
        lambda b: {**b, "customer": {k: v for k, v in b["customer"].items() if k != "name"}},
        lambda b: {**b, "identity_expires": b["identity_expires"] + 1},
        lambda b: {**b, "identity_signature": _flip_last(b["identity_signature"])},
        lambda b: {**b, "identity_signature": "not hex at all"},
    ],
    ids=["id", "email", "name", "dropped-name", "expires", "signature", "garbage"],
)
def test_a_tampered_identity_is_refused(tamper: Any) -> None:
    body = _body(MINA)
    with pytest.raises(IdentityError) as refused:
        identity_from_request(tamper(body), SECRET, now=NOW)
    assert refused.value.code == "invalid_identity_signature"


def test_a_signature_with_another_secret_is_refused() -> None:
    with pytest.raises(IdentityError) as refused:
        identity_from_request(_body(MINA, secret="another"), SECRET, now=NOW)
    assert refused.value.code == "invalid_identity_signature"


def test_no_secret_here_verifies_nothing() -> None:
    with pytest.raises(IdentityError) as refused:
        identity_from_request(_body(MINA), "", now=NOW)
    assert refused.value.code == "identity_not_configured"
    plain = identity_from_request({"customer": MINA}, "", now=NOW)
    assert not plain.verified and plain.customer == MINA


def test_self_typed_fields_are_kept_unverified() -> None:
    identity = identity_from_request(
        {"customer": {**MINA, "phone": "010", "email": "x" * 300}}, SECRET, now=NOW
    )
    assert not identity.verified
    assert identity.stored() == {**MINA, "email": "x" * 200, "verified": False}
    assert identity_from_request({}, SECRET).stored() == {"verified": False}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"customer": ["a"]}, "'customer' must be an object"),
        ({"customer": MINA, "identity_expires": 5}, "needs 'identity_signature'"),
        ({"customer": MINA, "identity_signature": "ab"}, "must be an integer"),
        ({"customer": MINA, "identity_signature": "ab", "identity_expires": "5"}, "integer"),
        ({"customer": {"email": "a@b"}, "identity_signature": "ab", "identity_expires": 5}, "id"),
        (
            {"customer": {"id": "a\nb"}, "identity_signature": "ab", "identity_expires": 5},
            "control characters",
        ),
        (
            {"customer": {"id": ["a"]}, "identity_signature": "ab", "identity_expires": 5},
            "must be a string",
        ),
    ],
)
def test_malformed_identity_says_what_is_wrong(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(IdentityError) as refused:
        identity_from_request(body, SECRET, now=NOW)
    assert fragment in str(refused.value)
    assert refused.value.code == "invalid_identity"


async def test_only_verified_conversations_are_linked_by_customer_id(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    verified = {**MINA, "verified": True}
    typed = {**MINA, "verified": False}
    first, _ = await store.create_conversation("ko", verified)
    typed_one, _ = await store.create_conversation("ko", typed)
    legacy, _ = await store.create_conversation("ko", dict(MINA))  # before verification
    second, _ = await store.create_conversation("ko", verified)
    same_email, _ = await store.create_conversation("ko", {**typed, "id": "someone-else"})

    linked = await store.conversations_of_customer(second.customer, second.id)
    assert [c.id for c in linked] == [first.id]
    for unverified in (typed_one, legacy, same_email):
        assert await store.conversations_of_customer(unverified.customer, unverified.id) == []
    # Same email, signed for another id: not the same customer.
    other = await store.conversations_of_customer(
        {"id": "cust-9", "email": MINA["email"], "verified": True}, "none"
    )
    assert other == []
    await store.close()


def test_the_command_line_prints_fields_the_gateway_accepts() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "handoff",
            "sign-identity",
            "--id",
            "cust-7",
            "--email",
            "mina@example.com",
            "--name",
            "山田花子",
        ],
        cwd=PROJECT_ROOT,
        env={"ASSISTANT_IDENTITY_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    fields = json.loads(result.stdout)
    assert set(fields) == {"customer", "identity_expires", "identity_signature"}
    assert SECRET not in result.stdout
    identity = identity_from_request(fields, SECRET)
    assert identity.verified and identity.customer["name"] == "山田花子"


def test_the_command_line_needs_the_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "handoff", "sign-identity", "--id", "x"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "ASSISTANT_IDENTITY_SECRET" in result.stderr
