"""Customer rate limits shared by gateway replicas through Redis (ASSISTANT_REDIS_URL).

The same GCRA as `rate_limit.LocalRateLimiter`, kept in Redis: one key per limited thing
holding its theoretical arrival time, read and written by one Lua script (atomic, with
Redis's own clock, so replicas with skewed clocks agree), expiring once the key is back
at a full bucket. A customer sending through two replicas spends one budget.

Redis unreachable: each replica falls back to its own in-process limiter (the limits then
hold per replica, as with no Redis) and logs that once per outage; a customer is never
refused because Redis is away.
"""

from __future__ import annotations

import logging

from redis import asyncio as redis_asyncio

from handoff.store.redis_outage import Away, RedisOutage
from handoff.web.rate_limit import LocalRateLimiter

log = logging.getLogger(__name__)

# KEYS[1]: the key. ARGV: seconds between events, tolerance (interval x burst), and
# whether to count the event ("1") or only look ("0"). Returns the wait, as a string.
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local arrival = now
if stored then arrival = math.max(tonumber(stored), now) end
arrival = arrival + interval
local wait = arrival - now - tolerance
if wait > 1e-9 then return tostring(wait) end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%.6f', arrival),
             'PX', math.ceil((arrival - now) * 1000) + 1000)
end
return '0'
"""


class RedisRateLimiter:
    """`limit` events per `period` per key, `burst` back to back, across replicas."""

    def __init__(
        self,
        client: redis_asyncio.Redis,
        name: str,
        limit: int,
        period: float = 60.0,
        burst: int | None = None,
        prefix: str = "assistant:limit:",
    ) -> None:
        self.local = LocalRateLimiter(limit, period, burst)  # while Redis is away
        self.limit = limit
        self._interval = period / limit if limit > 0 else 0.0
        self._tolerance = self._interval * self.local.burst
        self._prefix = f"{prefix}{name}:"
        self._script = client.register_script(_GCRA)
        self.outage = RedisOutage("rate limits", "counts alone", "count together")

    async def hit(self, key: str) -> float:
        return await self._ask(key, count=True)

    async def wait(self, key: str) -> float:
        return await self._ask(key, count=False)

    async def _ask(self, key: str, count: bool) -> float:
        if self.limit <= 0:
            return 0.0
        answer = await self.outage.ask(
            lambda: self._script(
                keys=[self._prefix + key],
                args=[repr(self._interval), repr(self._tolerance), "1" if count else "0"],
            )
        )
        if isinstance(answer, Away):
            return await (self.local.hit(key) if count else self.local.wait(key))
        return float(answer)

    @property
    def degraded(self) -> bool:
        return self.outage.degraded
