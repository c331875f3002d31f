"""Sign-in counters shared by gateway replicas through Redis (ASSISTANT_REDIS_URL).

The counter table of agent/login_guard.py (`LoginCounters`: failures, back-off and
attempts in flight per username and per address) kept in Redis, so that an attacker
spreading guesses over the replicas spends one budget, not one per replica. Two Redis
keys per counter, in one hash slot (`{table:key}`):

- `assistant:login:{account:mina}`: a hash of `failures`, `closed_until` and
  `last_failure`, expiring when the in-memory table would forget it (`window` after the
  last failure, or when the back-off is over if that is later);
- `assistant:login:{account:mina}:flight`: the attempts being checked, a sorted set of
  tokens scored by their start. A replica that dies mid-check never gives its token back:
  members older than `in_flight_seconds` are dropped by the next admission, and the set
  expires that long after the last one came in.

Every read-modify-write is one Lua script (atomic across replicas) on Redis's own clock
(`TIME`), so replicas with skewed clocks agree:

- `_ADMIT`: drop stale attempts in flight and failures idle for the window; refuse
  (counting the refusal as a failure when asked) while the key is closed or has as many
  attempts in flight as it may still fail; else add the attempt's token;
- `_COUNT`: remove the token, count a failure and, for a wrong password (not a refusal),
  close the key for its back-off;
- `_RESET`: remove the token and the failures (the right password);
- `_READ`: failures and wait.

Redis unreachable: the replica counts in its own `LocalLoginCounters` (as a single gateway
does) and logs that once per outage; a sign-in is never refused, nor answered 500,
because Redis is away. Meanwhile Redis is tried again at most every `retry_seconds`, so
an outage does not cost every sign-in a connect timeout per step. An attempt's slot is
given back where it was taken (one taken in Redis before the outage is dropped there
after `in_flight_seconds`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis import asyncio as redis_asyncio

from handoff.agent.login_guard import Budget, Clock, LocalLoginCounters, Slot
from handoff.store.redis_outage import Away, RedisOutage

log = logging.getLogger(__name__)


# KEYS[1]: the counter (hash), KEYS[2]: its attempts in flight (sorted set). ARGV[1]:
# the time, or '' for Redis's own.
_PRELUDE = """
local function clock()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function load()
  local v = redis.call('HMGET', KEYS[1], 'failures', 'closed_until', 'last_failure')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
end
local function save(now, window, failures, closed_until, last)
  redis.call('HSET', KEYS[1], 'failures', failures,
             'closed_until', string.format('%.6f', closed_until),
             'last_failure', string.format('%.6f', last))
  local keep = math.max(closed_until, last + window) - now
  redis.call('PEXPIRE', KEYS[1], math.max(0, math.ceil(keep * 1000)) + 1000)
end
"""

# ARGV: time, free failures, window, in-flight bound (s), token, count a refusal ('1').
# Returns {1, '0'} (admitted, the token is in flight) or {0, wait}.
_ADMIT = (
    _PRELUDE
    + """
local now = clock()
local free, window, bound = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.6f', now - bound))
local failures, closed_until, last = load()
if failures > 0 and now >= closed_until and now - last > window then
  redis.call('DEL', KEYS[1])
  failures, closed_until, last = 0, 0, 0
end
local wait = 0
if now < closed_until then
  wait = closed_until - now
elseif redis.call('ZCARD', KEYS[2]) >= math.max(1, free - failures) then
  wait = 1
end
if wait > 0 then
  if ARGV[6] == '1' then save(now, window, failures + 1, closed_until, now) end
  return {0, string.format('%.6f', wait)}
end
redis.call('ZADD', KEYS[2], string.format('%.6f', now), ARGV[5])
redis.call('PEXPIRE', KEYS[2], math.ceil(bound * 1000) + 1000)
return {1, '0'}
"""
)

# ARGV: time, free failures, window, back-off (s), back-off cap (s), token ('' for none),
# close for the back-off ('1') or only count ('0'). Returns the failures.
_COUNT = (
    _PRELUDE
    + """
local now = clock()
if ARGV[6] ~= '' then redis.call('ZREM', KEYS[2], ARGV[6]) end
local free, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local failures, closed_until = load()
failures = failures + 1
if ARGV[7] == '1' and failures > free then
  local doublings = math.min(failures - free - 1, 40)
  local backoff = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * 2 ^ doublings)
  closed_until = math.max(closed_until, now + backoff)
end
save(now, window, failures, closed_until, now)
return failures
"""
)

# ARGV: token ('' for none).
_RESET = """
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
redis.call('DEL', KEYS[1])
return 0
"""

# ARGV: time. Returns {failures, seconds until the back-off is over}.
_READ = (
    _PRELUDE
    + """
local now = clock()
local failures, closed_until = load()
return {failures, string.format('%.6f', closed_until - now)}
"""
)


class RedisLoginCounters:
    """`LoginCounters` in Redis, shared by every gateway using the same Redis and prefix."""

    def __init__(
        self,
        client: redis_asyncio.Redis,
        *,
        prefix: str = "assistant:login:",
        in_flight_seconds: float = 30.0,
        retry_seconds: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        """`clock`: None (Redis's own, what replicas need) or a clock every replica
        shares (tests); `in_flight_seconds`: longer than any password check takes."""
        self.local = LocalLoginCounters(clock or time.monotonic)  # while Redis is away
        self.in_flight_seconds = in_flight_seconds
        self.outage = RedisOutage(
            "sign-in throttling",
            "counts sign-in failures alone",
            "count together",
            retry_seconds,
        )
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._admit = client.register_script(_ADMIT)
        self._count = client.register_script(_COUNT)
        self._reset = client.register_script(_RESET)
        self._read = client.register_script(_READ)

    def keys(self, budget: Budget, key: str) -> list[str]:
        """The Redis keys of one counter: its hash and its attempts in flight."""
        counter = f"{self._prefix}{{{budget.table}:{key}}}"
        return [counter, counter + ":flight"]

    # -- LoginCounters ------------------------------------------------------------------

    async def admit(self, budget: Budget, key: str, count_refusal: bool) -> Slot | float:
        token = secrets.token_hex(8)
        args = [
            self._now(),
            str(budget.free),
            repr(budget.window),
            repr(self.in_flight_seconds),
            token,
            "1" if count_refusal else "0",
        ]
        answer = await self._shared(lambda: self._admit(keys=self.keys(budget, key), args=args))
        if isinstance(answer, Away):
            return await self.local.admit(budget, key, count_refusal)
        admitted, wait = answer
        return Slot(token, shared=True) if int(admitted) else float(wait)

    async def failed(self, budget: Budget, key: str, slot: Slot | None) -> int:
        return await self._counted(budget, key, slot, backoff=True)

    async def refused(self, budget: Budget, key: str, slot: Slot | None) -> int:
        return await self._counted(budget, key, slot, backoff=False)

    async def succeeded(self, budget: Budget, key: str, slot: Slot | None) -> None:
        args = [_token(slot)]
        await self._shared(lambda: self._reset(keys=self.keys(budget, key), args=args))
        # Redis or not, what this replica counted alone (during an outage) is forgotten too
        await self.local.succeeded(budget, key, _local(slot))

    async def release(self, budget: Budget, key: str, slot: Slot) -> None:
        if not slot.shared:
            await self.local.release(budget, key, slot)
            return
        flight = self.keys(budget, key)[1]
        await self._shared(lambda: self._client.zrem(flight, slot.token))

    async def forget(self, budget: Budget, key: str) -> None:
        keys = self.keys(budget, key)
        await self._shared(lambda: self._client.delete(*keys))
        await self.local.forget(budget, key)

    async def failures(self, budget: Budget, key: str) -> int:
        answer = await self._readout(budget, key)
        if isinstance(answer, Away):
            return await self.local.failures(budget, key)
        return int(answer[0])

    async def wait(self, budget: Budget, key: str) -> float:
        answer = await self._readout(budget, key)
        if isinstance(answer, Away):
            return await self.local.wait(budget, key)
        return float(answer[1])

    # -- helpers ------------------------------------------------------------------------

    async def _counted(self, budget: Budget, key: str, slot: Slot | None, backoff: bool) -> int:
        args = [
            self._now(),
            str(budget.free),
            repr(budget.window),
            repr(budget.backoff_seconds),
            repr(budget.backoff_max_seconds),
            _token(slot),
            "1" if backoff else "0",
        ]
        answer = await self._shared(lambda: self._count(keys=self.keys(budget, key), args=args))
        if isinstance(answer, Away):
            count = self.local.failed if backoff else self.local.refused
            return await count(budget, key, _local(slot))
        if slot is not None and not slot.shared:  # taken during the outage
            await self.local.release(budget, key, slot)
        return int(answer)

    async def _readout(self, budget: Budget, key: str) -> Any:
        args = [self._now()]
        return await self._shared(lambda: self._read(keys=self.keys(budget, key), args=args))

    def _now(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    async def _shared(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Redis's answer to `call`, or AWAY."""
        return await self.outage.ask(call)

    @property
    def degraded(self) -> bool:
        return self.outage.degraded


def _token(slot: Slot | None) -> str:
    """The slot's token in Redis ('' when it is not there)."""
    return slot.token if slot is not None and slot.shared else ""


def _local(slot: Slot | None) -> Slot | None:
    """The slot, when this process's table holds it."""
    return slot if slot is not None and not slot.shared else None
