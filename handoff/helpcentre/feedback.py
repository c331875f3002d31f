"""Votes on help-centre articles ("was this helpful?"): the per-page token their form
carries, and where a verdict is recorded.

Each article page carries a fresh token: a random nonce, when it was issued, and an HMAC
over both and the article's id. A vote must bring back a token this gateway (or a replica:
the key comes from a secret every replica shares) issued for that article within
TOKEN_SECONDS, so another site cannot post votes from its visitors' browsers (CSRF) and a
script has to fetch a page per vote. The nonce names the vote: the store records the
first verdict per nonce, so a resent form or a second click counts once.

A verdict lands in `bot_events`, the table the bot's "did that help?" fills
(handoff/conversation/bot_events.py), as kind helpful / not_helpful with the article and
the page's language, so the supervisor's article figures count it with the bot's. Its
`conversation_id` is `helpcentre:<nonce>` (no conversation has that form: theirs are
UUIDs), which marks where it came from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable

from handoff.store.interface import ARTICLE_VERDICTS

log = logging.getLogger(__name__)

SOURCE_PREFIX = "helpcentre:"
VERDICTS = ARTICLE_VERDICTS  # what the store records
# A page left open for a week can still vote; an older token is refused (400).
TOKEN_SECONDS = 7 * 86400
# A clock this far ahead of the issuing replica's is still believed.
CLOCK_SKEW_SECONDS = 60
MAX_TOKEN_CHARS = 100
_KEY_LABEL = b"help-centre feedback tokens v1"


class InvalidToken(ValueError):
    """A token we did not issue for this article, or issued too long ago; says which."""


def token_key(shared_secret: str) -> bytes:
    """The signing key, derived from a secret every gateway replica has (so a page from one
    replica can vote on another), never that secret itself. Without one, a random key of
    this process: votes then work on the replica that served the page."""
    if not shared_secret:
        log.info("help centre: no shared secret set; feedback tokens are per process")
        return secrets.token_bytes(32)
    return hmac.new(shared_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


class FeedbackTokens:
    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def issue(self, article_id: str) -> str:
        """A fresh token for a page of `article_id`."""
        body = f"{secrets.token_urlsafe(12)}.{int(self._clock())}"
        return f"{body}.{self._sign(article_id, body)}"

    def check(self, token: str, article_id: str) -> str:
        """The vote's key (SOURCE_PREFIX + nonce) if `token` was issued for `article_id`
        and is still fresh; InvalidToken otherwise."""
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise InvalidToken("the form's token is not one this help centre issues")
        nonce, _, rest = token.partition(".")
        issued, _, signature = rest.partition(".")
        if not (nonce and issued.isdigit() and signature):
            raise InvalidToken("the form's token is not one this help centre issues")
        expected = self._sign(article_id, f"{nonce}.{issued}")
        if not hmac.compare_digest(expected, signature):
            raise InvalidToken("the form's token was not issued for this article")
        age = self._clock() - int(issued)
        if age > TOKEN_SECONDS or age < -CLOCK_SKEW_SECONDS:
            raise InvalidToken("the page is too old to vote from: reload it and vote again")
        return SOURCE_PREFIX + nonce

    def _sign(self, article_id: str, body: str) -> str:
        digest = hmac.new(self._key, f"{article_id}\n{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()
