"""Redis away, for the parts of a gateway that share state through it.

The relay's coordination, the customers' rate limits and the sign-in counters each ask
Redis and, when it does not answer, carry on with this replica's own memory instead of
refusing anyone. They tell the outage the same way: one warning when it starts, one line
when it ends, never a line per call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis

log = logging.getLogger(__name__)

# What "Redis did not answer" looks like: its own errors, a refused or reset connection,
# and a timeout.
REDIS_ERRORS = (redis.RedisError, OSError, asyncio.TimeoutError)
T = TypeVar("T")


class Away:
    """Redis did not answer (or is not asked again yet)."""


AWAY = Away()


class RedisOutage:
    """One part's view of Redis: `ask` runs a call, or answers AWAY while Redis is out.

    `part` names the work ("rate limits"), `alone` what this replica does meanwhile
    ("counts alone"), `together` what the replicas do again once it is back ("count
    together"). With `retry_seconds` > 0, Redis is not asked again for that long after a
    failure, so an outage does not cost every call a connect timeout."""

    def __init__(self, part: str, alone: str, together: str, retry_seconds: float = 0.0) -> None:
        self.part = part
        self.alone = alone
        self.together = together
        self.retry_seconds = retry_seconds
        self.degraded = False  # the last call failed
        self._retry_at = 0.0

    async def ask(self, call: Callable[[], Awaitable[T]]) -> T | Away:
        if self.degraded and time.monotonic() < self._retry_at:
            return AWAY
        try:
            answer = await call()
        except REDIS_ERRORS as exc:
            if not self.degraded:
                log.warning(
                    "Redis unavailable for %s (%s): this gateway %s until it is back",
                    self.part,
                    type(exc).__name__,
                    self.alone,
                )
            self.degraded = True
            self._retry_at = time.monotonic() + self.retry_seconds
            return AWAY
        if self.degraded:
            log.info("Redis back for %s: gateways %s again", self.part, self.together)
            self.degraded = False
        return answer
