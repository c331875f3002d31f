"""Customer identity the host site vouches for (like Intercom's identity verification).

Anyone can type any email into `POST /api/conversations`. A customer's earlier
conversations are shown to agents only when the host site, which knows who is signed
in, signs the identity with a secret it shares with the gateway
(ASSISTANT_IDENTITY_SECRET):

    identity_signature = hex(HMAC-SHA256(secret, canonical(id, email, name, expires)))

The canonical form is UTF-8 text, five lines joined by "\\n" (no trailing newline):

    v1
    <id>
    <email>
    <name>
    <expires: Unix seconds, decimal>

each field Unicode-NFC-normalised (so "김민아" signs the same whether the host's framework
composed its Hangul or not), an absent field as the empty string; no field may contain
a control character. `identity_expires` bounds how long a leaked signature is good for.

`python -m handoff sign-identity --id ... --email ...` prints the fields for a test or a
host site's back end (see README, Customer API).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stack.settings import Settings

VERSION = "v1"
FIELDS = ("id", "email", "name")
MAX_FIELD_CHARS = 200
# A signature valid for longer than this is refused as a host misconfiguration.
MAX_LIFETIME_SECONDS = 30 * 24 * 3600


class IdentityError(ValueError):
    """A signed identity the gateway cannot accept; `code` says why (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Identity:
    """The customer fields as given, and whether the host site vouched for them."""

    customer: dict[str, str]
    verified: bool

    def stored(self) -> dict[str, Any]:
        """What the conversation keeps: the fields and the `verified` flag."""
        return {**self.customer, "verified": self.verified}


def _field(value: object) -> str:
    text = unicodedata.normalize("NFC", str(value))
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise IdentityError(
            "invalid_identity", "customer fields may not contain control characters"
        )
    return text


def canonical(customer: Mapping[str, object], expires: int) -> bytes:
    """The bytes the signature is computed over (see the module docstring)."""
    values = [_field(customer.get(name) or "") for name in FIELDS]
    return "\n".join([VERSION, *values, str(int(expires))]).encode("utf-8")


def sign(secret: str, customer: Mapping[str, object], expires: int) -> str:
    """The hex HMAC-SHA256 signature of `customer` valid until `expires` (Unix seconds)."""
    if not secret:
        raise ValueError("no identity secret: set ASSISTANT_IDENTITY_SECRET")
    return hmac.new(
        secret.encode("utf-8"), canonical(customer, expires), hashlib.sha256
    ).hexdigest()


def signed_fields(
    secret: str, customer: Mapping[str, str], ttl_seconds: int, now: float | None = None
) -> dict[str, Any]:
    """The body fields a host site adds to `POST /api/conversations`."""
    expires = int(time.time() if now is None else now) + ttl_seconds
    fields = {name: customer[name] for name in FIELDS if customer.get(name)}
    return {
        "customer": fields,
        "identity_expires": expires,
        "identity_signature": sign(secret, fields, expires),
    }


def identity_from_request(
    body: Mapping[str, Any], secret: str, now: float | None = None
) -> Identity:
    """The customer of a new conversation, verified when its signature checks out.

    No signature: the fields are kept, unverified. A signature that cannot be checked
    (no secret here, malformed, expired, not matching) is an IdentityError: a host
    that signs wrongly is misconfigured, and saying so beats quietly treating its
    signed-in customers as strangers.
    """
    raw = body.get("customer") or {}
    if not isinstance(raw, dict):
        raise IdentityError("invalid_identity", "'customer' must be an object with id, name, email")
    signature = body.get("identity_signature")
    expires = body.get("identity_expires")
    if signature is None and expires is None:
        customer = {k: str(v)[:MAX_FIELD_CHARS] for k, v in raw.items() if k in FIELDS and v}
        return Identity(customer, verified=False)
    if not isinstance(signature, str) or not signature:
        raise IdentityError(
            "invalid_identity", "'identity_expires' needs 'identity_signature' (a hex string)"
        )
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise IdentityError(
            "invalid_identity", "'identity_expires' must be an integer (Unix seconds)"
        )
    for name, value in raw.items():
        if name in FIELDS and not isinstance(value, str | int):
            raise IdentityError("invalid_identity", f"customer.{name} must be a string")
    customer = {name: _field(raw[name]) for name in FIELDS if raw.get(name) not in (None, "")}
    if not customer.get("id"):
        raise IdentityError("invalid_identity", "a signed identity needs customer.id")
    if any(len(value) > MAX_FIELD_CHARS for value in customer.values()):
        raise IdentityError(
            "invalid_identity", f"customer fields are limited to {MAX_FIELD_CHARS} characters"
        )
    if not secret:
        raise IdentityError(
            "identity_not_configured",
            "this gateway has no identity secret (ASSISTANT_IDENTITY_SECRET), so it cannot "
            "verify identity_signature; send the customer without it",
        )
    current = time.time() if now is None else now
    if expires <= current:
        raise IdentityError(
            "identity_expired", "identity_signature has expired: sign the identity again"
        )
    if expires > current + MAX_LIFETIME_SECONDS:
        raise IdentityError(
            "invalid_identity",
            f"identity_expires is more than {MAX_LIFETIME_SECONDS // 86400} days ahead",
        )
    expected = sign(secret, customer, expires)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise IdentityError(
            "invalid_identity_signature",
            "identity_signature does not match the customer fields and identity_expires "
            "(is the host site's secret the gateway's?)",
        )
    return Identity(customer, verified=True)


def sign_identity_cli(argv: list[str]) -> int:
    """`python -m handoff sign-identity`: print the signed fields for a customer."""
    parser = argparse.ArgumentParser(
        prog="python -m handoff sign-identity",
        description="Print customer, identity_expires and identity_signature for "
        "POST /api/conversations, signed with $ASSISTANT_IDENTITY_SECRET.",
    )
    parser.add_argument("--id", required=True, help="the customer's id on the host site")
    parser.add_argument("--email", default="")
    parser.add_argument("--name", default="")
    parser.add_argument(
        "--ttl", type=int, default=3600, help="seconds the signature stays valid (default 3600)"
    )
    args = parser.parse_args(argv)
    secret = Settings.from_env().identity_secret
    if not secret:
        print("error: ASSISTANT_IDENTITY_SECRET is not set", file=sys.stderr)
        return 2
    if not 0 < args.ttl <= MAX_LIFETIME_SECONDS:
        print(f"error: --ttl must be between 1 and {MAX_LIFETIME_SECONDS}", file=sys.stderr)
        return 2
    customer = {"id": args.id, "email": args.email, "name": args.name}
    try:
        fields = signed_fields(secret, customer, args.ttl)
    except IdentityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(fields, ensure_ascii=False, indent=2))
    return 0
