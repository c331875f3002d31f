"""Reply tokens: which conversation a customer's emailed reply belongs to.

A ticket reply's Reply-To is `<local>+<token>@<domain>` with the token
`<conversation id>.<first 20 hex digits of HMAC-SHA256(key, conversation id)>`. The key is
derived from the inbound secret (so one secret is set up, yet the bearer value is never
used as a MAC key directly). Without the key nobody can make a token for another
conversation, so a forged address cannot land a message in someone else's chat. Lower
case only: some mail systems lower-case the local part of an address.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_LABEL = b"assistant email reply token v1"
_MAC_HEX = 20  # 80 bits: far beyond guessing by mail
# A conversation id is a uuid (lower-case hex and dashes); nothing else is looked up.
TOKEN_PATTERN = re.compile(rf"([0-9a-f-]{{8,64}})\.([0-9a-f]{{{_MAC_HEX}}})")


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _LABEL, hashlib.sha256).digest()


def _mac(secret: str, conversation_id: str) -> str:
    digest = hmac.new(_key(secret), conversation_id.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:_MAC_HEX]


def make_token(secret: str, conversation_id: str) -> str:
    return f"{conversation_id}.{_mac(secret, conversation_id)}"


def verify_token(secret: str, token: str) -> str | None:
    """The conversation id a token names, or None when it is malformed or its MAC is
    wrong (compared in constant time)."""
    match = TOKEN_PATTERN.fullmatch(token.lower())
    if match is None:
        return None
    conversation_id, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(secret, conversation_id)):
        return None
    return conversation_id
