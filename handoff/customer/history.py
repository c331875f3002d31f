"""A verified customer's earlier conversations, on any device (issue 14, item 8).

`POST /api/customers/history` takes the identity the host site signed
(handoff/customer/identity.py) and answers the customer's earlier conversations plus a
history token; `GET /api/customers/history/{conversation_id}` with that token as the
bearer answers one of them, read-only. Only conversations that were themselves started
with a verified identity of the same customer id are listed: a name or email someone
typed links nothing.

The history token is stateless, so any replica can check it: "h1.<expires>.<id, base64url>.<mac>",
the MAC an HMAC-SHA256 under a key derived from the identity secret for this one use
(so a history token can never pass for an identity signature, nor the other way round).
It lasts HISTORY_TOKEN_SECONDS, never longer than the identity it was made from, and is
sent in a header, never in a URL (URLs end up in logs and browser history).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any

from handoff.conversation.models import Conversation
from handoff.store.interface import Store

TOKEN_VERSION = "h1"
HISTORY_TOKEN_SECONDS = 15 * 60
PREVIEW_CHARS = 120
# The longest token a client could honestly hold: an id of 200 characters of 4 UTF-8
# bytes in base64, the expiry, the MAC and the dots. Longer is refused before any work.
MAX_TOKEN_CHARS = 1200


def _key(secret: str) -> bytes:
    """The history tokens' own key: never the identity secret itself."""
    return hmac.new(secret.encode("utf-8"), b"maru history token v1", hashlib.sha256).digest()


def _mac(secret: str, customer_id: str, expires: int) -> str:
    message = f"{TOKEN_VERSION}\n{customer_id}\n{expires}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def issue_token(
    secret: str, customer_id: str, identity_expires: int, now: float | None = None
) -> tuple[str, int]:
    """A history token for `customer_id` and when it expires (Unix seconds)."""
    current = int(time.time() if now is None else now)
    expires = min(current + HISTORY_TOKEN_SECONDS, identity_expires)
    encoded = base64.urlsafe_b64encode(customer_id.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{TOKEN_VERSION}.{expires}.{encoded}.{_mac(secret, customer_id, expires)}", expires


def customer_of_token(secret: str, token: str, now: float | None = None) -> str | None:
    """The customer id a history token was issued for; None when it is malformed,
    expired, or not ours (the caller answers all three alike)."""
    if not secret or len(token) > MAX_TOKEN_CHARS:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION or not parts[1].isdigit():
        return None
    expires = int(parts[1])
    if expires <= (time.time() if now is None else now):
        return None
    try:
        padded = parts[2] + "=" * (-len(parts[2]) % 4)
        customer_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not customer_id:
        return None
    expected = _mac(secret, customer_id, expires)
    if not hmac.compare_digest(expected.encode("ascii"), parts[3].encode("ascii", "replace")):
        return None
    return customer_id


def belongs_to(conversation: Conversation, customer_id: str) -> bool:
    """Whether the conversation was started with this customer's verified identity."""
    customer = conversation.customer
    return customer.get("verified") is True and str(customer.get("id") or "") == customer_id


async def earlier_conversations(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The customer's verified conversations, newest first (the store keeps to the last
    ten), each with its last message as a preview. A conversation the customer never
    wrote in (a widget opened and left) is left out: nothing to look back at."""
    found = await store.conversations_of_customer({"id": customer_id, "verified": True}, "")
    items = []
    for conversation in found:
        messages = await store.messages(conversation.id)
        if not any(m.role == "customer" for m in messages):
            continue
        last = messages[-1]
        items.append(
            {
                "conversation_id": conversation.id,
                "started_at": conversation.created_at,
                "last_message_at": last.ts,
                "state": conversation.state,
                "language": conversation.language,
                "preview": last.text[:PREVIEW_CHARS],
            }
        )
    return items
