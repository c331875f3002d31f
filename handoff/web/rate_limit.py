"""Customer rate limits: how often a key (a conversation, an address) may do something,
and how many of something it may hold open at once.

Two tiny interfaces, `RateLimiter` and `ConcurrencyLimiter`; the in-process
implementations below are the single-gateway default. Replicas sharing Redis count the
rates there (rate_limit_redis.py: one key per limited thing, GCRA's arrival time as its
value with an expiry); open sockets stay per replica, which holds them.

`LocalRateLimiter` is GCRA, the generic cell-rate algorithm (a token bucket kept as one
number per key): `limit` events per `period`, at most `burst` of them back to back. Its
answer is how long to wait: 0 means the event is allowed and counted; anything else
means refused, not counted, and allowed again after that many seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float:
        """Count one event for `key` if allowed and return 0.0; else count nothing and
        return the seconds until it would be allowed."""
        ...

    async def wait(self, key: str) -> float:
        """Seconds until an event for `key` would be allowed (0.0: now); counts nothing.
        Lets a refusal be cheap: checked before the request is authenticated, counted
        (`hit`) only after, so nobody can spend another's budget."""
        ...


class ConcurrencyLimiter(Protocol):
    async def acquire(self, key: str) -> bool:
        """Take one slot for `key`; False (nothing taken) when all are in use."""
        ...

    async def release(self, key: str) -> None:
        """Give back a slot taken by a successful `acquire`."""
        ...


class LocalRateLimiter:
    """GCRA in this process. `limit` <= 0 means unlimited."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        burst: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limit = limit
        self.period = period
        self.burst = limit if burst is None else max(1, min(burst, limit))
        self._clock = clock
        # Seconds between events at the sustained rate, and how far ahead of now a
        # key's theoretical arrival time may run before it is refused.
        self._interval = period / limit if limit > 0 else 0.0
        self._tolerance = self._interval * self.burst
        self._arrivals: dict[str, float] = {}
        self._next_sweep = self._clock() + period

    async def hit(self, key: str) -> float:
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        arrival, wait = self._next(key, now)
        if wait > 0.0:
            return wait
        self._arrivals[key] = arrival
        return 0.0

    async def wait(self, key: str) -> float:
        if self.limit <= 0:
            return 0.0
        return self._next(key, self._clock())[1]

    def _next(self, key: str, now: float) -> tuple[float, float]:
        """The key's arrival time after one more event, and how long that must wait."""
        arrival = max(self._arrivals.get(key, now), now) + self._interval
        wait = arrival - now - self._tolerance
        return arrival, wait if wait > 1e-9 else 0.0

    def _sweep(self, now: float) -> None:
        """Forget keys back at a full bucket: absent and caught-up mean the same."""
        self._arrivals = {k: t for k, t in self._arrivals.items() if t > now}
        self._next_sweep = now + self.period

    def __len__(self) -> int:
        return len(self._arrivals)


class LocalConcurrencyLimiter:
    """Open things per key in this process. `limit` <= 0 means unlimited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    async def acquire(self, key: str) -> bool:
        held = self._open.get(key, 0)
        if self.limit > 0 and held >= self.limit:
            return False
        self._open[key] = held + 1
        return True

    async def release(self, key: str) -> None:
        held = self._open.get(key, 0) - 1
        if held > 0:
            self._open[key] = held
        else:
            self._open.pop(key, None)

    def held(self, key: str) -> int:
        return self._open.get(key, 0)


@dataclass(frozen=True)
class CustomerLimits:
    """The limits the customer side of the gateway enforces (numbers: stack/settings.py)."""

    # Messages per conversation, over HTTP and the websocket together.
    messages: RateLimiter
    # New conversations per client address.
    conversations: RateLimiter
    # Searches per client address: suggestions while typing, the help centre's by meaning.
    searches: RateLimiter
    # Open customer websockets per client address.
    sockets: ConcurrencyLimiter


def retry_after_header(wait: float) -> str:
    """`Retry-After` is whole seconds; round up, so a client that obeys it is let in."""
    return str(max(1, math.ceil(wait)))
