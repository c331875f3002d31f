"""Agent sign-in throttling: per-username and per-address backoff, and lockout.

Every sign-in attempt is admitted or refused here *before* any password is hashed, so
a refused attempt costs a counter lookup (a dictionary, or a Redis round trip) and, for
the username, one indexed store read, never a scrypt. The numbers are settings
(`login_*` in stack/settings.py).

Per username — any username, known or not, so that neither the answers nor a lock
tell which usernames exist:

- the first `free_failures` failures in a row cost nothing; each failure after them
  closes the username for `backoff_seconds`, doubling each time (1 s, 2 s, 4 s, …)
  up to `backoff_max_seconds`;
- an attempt made while it is closed is refused (HTTP 429, `Retry-After`) and counts
  as a failure too: hammering is what an attacker does, a person waits;
- at `lockout_failures` failures the username is locked: it is written to the store
  (table `login_lockouts`, so a gateway restart keeps it) and every attempt is refused,
  the right password included, until an operator lifts it:
  `python -m handoff agents unlock USERNAME`;
- a successful sign-in forgets the failures; counters idle for `account_window_seconds`
  are forgotten too (only the lock has to survive a restart).

Per client address (a short window): the same backoff after
`address_free_failures` failures from that address whatever the usernames (password
spraying); forgotten after `address_window_seconds` without a failure. The address is
the TCP peer: behind a reverse proxy that is the proxy, so give the gateway its own
listener per proxy or raise the limit. IPv6 peers count per /64.

Attempts in flight count against both budgets: a burst of concurrent guesses cannot
all be hashed before the first failures are known. At most `free - failures` attempts
(at least one) are checked at once per username and per address; attempts beyond
that are refused like a closed backoff. Once admitted, an attempt waits for a hashing
slot (handoff/agent/passwords.py): when too many are already waiting it is refused as
`busy`, and counts for nothing.

Where the counters live is the `LoginCounters` table's business; this module holds the
policy. One gateway keeps them in its memory (`LocalLoginCounters`). Gateway replicas
sharing Redis (ASSISTANT_REDIS_URL) keep them there (agent/login_counters_redis.py), so
an attacker spreading guesses over the replicas spends one budget, not one per replica;
while Redis is unreachable each replica counts alone (as with one gateway) rather than
refuse anyone. The lock itself is in the store, shared by all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from aiohttp import web

from handoff.agent.passwords import HashingBusy
from handoff.web.http import json_error
from stack.settings import Settings

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class LoginPolicy:
    """The numbers (stack/settings.py explains each)."""

    free_failures: int = 5
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    lockout_failures: int = 20
    account_window_seconds: float = 86400.0
    address_free_failures: int = 50
    address_window_seconds: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            free_failures=settings.login_free_failures,
            backoff_seconds=settings.login_backoff_seconds,
            backoff_max_seconds=settings.login_backoff_max_seconds,
            lockout_failures=settings.login_lockout_failures,
            account_window_seconds=settings.login_account_window_seconds,
            address_free_failures=settings.login_address_free_failures,
            address_window_seconds=settings.login_address_window_seconds,
        )

    def backoff(self, failures: int, free: int) -> float:
        """How long a key stays closed after its `failures`-th failure in a row."""
        return _backoff(failures, free, self.backoff_seconds, self.backoff_max_seconds)

    @property
    def account_budget(self) -> Budget:
        return Budget(
            "account",
            self.free_failures,
            self.account_window_seconds,
            self.backoff_seconds,
            self.backoff_max_seconds,
        )

    @property
    def address_budget(self) -> Budget:
        return Budget(
            "address",
            self.address_free_failures,
            self.address_window_seconds,
            self.backoff_seconds,
            self.backoff_max_seconds,
        )


class LockStore(Protocol):
    """Where locks live (HandoffStore: SQLite), so that a restart keeps them."""

    async def login_locked(self, username: str) -> bool: ...

    async def lock_login(self, username: str, failures: int) -> None: ...


RefusalCode = Literal["too_many_attempts", "locked", "busy"]


@dataclass(frozen=True)
class Refusal:
    """An attempt answered 429 without checking the password."""

    code: RefusalCode
    retry_after: int  # whole seconds, >= 1
    message: str

    def response(self) -> web.Response:
        response = json_error(429, self.code, self.message)
        response.headers["Retry-After"] = str(self.retry_after)
        return response


def _refusal(code: RefusalCode, wait: float) -> Refusal:
    seconds = max(1, math.ceil(wait))
    messages: dict[RefusalCode, str] = {
        "too_many_attempts": f"too many failed sign-ins: try again in {seconds} s",
        "locked": "too many failed sign-ins: sign-in is locked until a supervisor unlocks it",
        "busy": f"too many sign-ins at once: try again in {seconds} s",
    }
    return Refusal(code, seconds, messages[code])


# -- the counters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One counter table's numbers: `free` failures in a row, then the doubling back-off;
    a key's failures are forgotten `window` seconds after its last one."""

    table: Literal["account", "address"]
    free: int
    window: float
    backoff_seconds: float
    backoff_max_seconds: float

    def backoff(self, failures: int) -> float:
        return _backoff(failures, self.free, self.backoff_seconds, self.backoff_max_seconds)


def _backoff(failures: int, free: int, seconds: float, cap: float) -> float:
    if failures <= free:
        return 0.0
    doublings = min(failures - free - 1, 40)  # 2**40 s is "the cap" already
    return min(cap, seconds * 2.0**doublings)


@dataclass(frozen=True)
class Slot:
    """An admitted attempt's place among its key's attempts in flight."""

    token: str
    shared: bool = False  # held in Redis (False: in this process's table)


class LoginCounters(Protocol):
    """Failures, back-off and attempts in flight per key, for each `Budget`'s table.

    Every call is one atomic step for the key. Calls never raise for the table's own
    sake (a shared table that cannot be reached answers from a local one)."""

    async def admit(self, budget: Budget, key: str, count_refusal: bool) -> Slot | float:
        """Admit an attempt (it is in flight until its `Slot` is given back), or say how
        many seconds the key must wait: while it is closed, or while as many attempts are
        in flight as it may still fail (`max(1, free - failures)`). A refusal counts as
        a failure when `count_refusal`. Failures idle for the window are forgotten."""
        ...

    async def failed(self, budget: Budget, key: str, slot: Slot | None) -> int:
        """A failure: give the slot back, count it, close the key for its back-off.
        Returns the key's failures."""
        ...

    async def refused(self, budget: Budget, key: str, slot: Slot | None) -> int:
        """An attempt refused: give the slot back and count a failure (no back-off).
        Returns the key's failures."""
        ...

    async def succeeded(self, budget: Budget, key: str, slot: Slot | None) -> None:
        """The right password: give the slot back; the key starts afresh (other attempts
        in flight stay so)."""
        ...

    async def release(self, budget: Budget, key: str, slot: Slot) -> None:
        """Give the slot back; nothing is counted."""
        ...

    async def forget(self, budget: Budget, key: str) -> None:
        """Drop the key altogether (its attempts in flight included)."""
        ...

    async def failures(self, budget: Budget, key: str) -> int: ...

    async def wait(self, budget: Budget, key: str) -> float:
        """Seconds until the key's back-off is over (0.0 or less: it is)."""
        ...


@dataclass
class _Counter:
    failures: int = 0
    closed_until: float = 0.0
    in_flight: int = 0
    last_failure: float = 0.0

    def refuses(self, now: float, free: int) -> float:
        """Seconds until this key may try again (0.0: it may now)."""
        if now < self.closed_until:
            return self.closed_until - now
        if self.in_flight >= max(1, free - self.failures):
            return 1.0  # as many checks running as the key may still fail
        return 0.0

    def count(self, now: float) -> int:
        self.failures += 1
        self.last_failure = now
        return self.failures

    def give_back(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)


class LocalLoginCounters:
    """The counters of one gateway process, in dictionaries swept once a minute."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._tables: dict[str, tuple[Budget, dict[str, _Counter]]] = {}
        self._next_sweep = clock() + 60.0

    def _table(self, budget: Budget) -> dict[str, _Counter]:
        entry = self._tables.get(budget.table)
        if entry is None or entry[0] != budget:
            entry = self._tables[budget.table] = (budget, entry[1] if entry else {})
        return entry[1]

    async def admit(self, budget: Budget, key: str, count_refusal: bool) -> Slot | float:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        table = self._table(budget)
        counter = table.get(key)
        if counter is None:
            counter = table[key] = _Counter()
        elif (
            counter.failures
            and now >= counter.closed_until
            and now - counter.last_failure > budget.window
        ):
            counter.failures = 0  # idle for the window (and no wait left): forgotten
        wait = counter.refuses(now, budget.free)
        if wait:
            if count_refusal:
                counter.count(now)
            return wait
        counter.in_flight += 1
        return Slot("")

    async def failed(self, budget: Budget, key: str, slot: Slot | None) -> int:
        now = self._clock()
        counter = self._table(budget).setdefault(key, _Counter())
        if slot is not None:
            counter.give_back()
        failures = counter.count(now)
        counter.closed_until = max(counter.closed_until, now + budget.backoff(failures))
        return failures

    async def refused(self, budget: Budget, key: str, slot: Slot | None) -> int:
        counter = self._table(budget).setdefault(key, _Counter())
        if slot is not None:
            counter.give_back()
        return counter.count(self._clock())

    async def succeeded(self, budget: Budget, key: str, slot: Slot | None) -> None:
        table = self._table(budget)
        counter = table.get(key)
        if counter is not None:
            in_flight = counter.in_flight - (1 if slot is not None else 0)
            table[key] = _Counter(in_flight=max(0, in_flight))

    async def release(self, budget: Budget, key: str, slot: Slot) -> None:
        counter = self._table(budget).get(key)
        if counter is not None:
            counter.give_back()

    async def forget(self, budget: Budget, key: str) -> None:
        self._table(budget).pop(key, None)

    async def failures(self, budget: Budget, key: str) -> int:
        counter = self._table(budget).get(key)
        return counter.failures if counter else 0

    async def wait(self, budget: Budget, key: str) -> float:
        counter = self._table(budget).get(key)
        return counter.closed_until - self._clock() if counter else 0.0

    def _sweep(self, now: float) -> None:
        """Forget idle counters (memory stays bounded by recent traffic)."""
        for budget, table in self._tables.values():
            stale = [
                key
                for key, c in table.items()
                if c.in_flight == 0
                and now >= c.closed_until
                and now - c.last_failure > budget.window
            ]
            for key in stale:
                del table[key]
        self._next_sweep = now + 60.0


# -- the guard ----------------------------------------------------------------------------


class Attempt:
    """An admitted attempt: report how it ended exactly once."""

    def __init__(
        self, guard: LoginGuard, username: str, address: str, site: Slot, account: Slot
    ) -> None:
        self._guard = guard
        self.username = username
        self.address = address
        self.site_slot = site
        self.account_slot = account
        self._open = True

    async def failed(self) -> None:
        if self._open:
            self._open = False
            await self._guard._failed(self)

    async def succeeded(self) -> None:
        if self._open:
            self._open = False
            await self._guard._succeeded(self)

    async def abandon(self) -> None:
        """The password was never checked (busy, an error): counts for nothing."""
        if self._open:
            self._open = False
            await self._guard._release(self)


class LoginGuard:
    def __init__(
        self,
        policy: LoginPolicy,
        locks: LockStore,
        clock: Clock = time.monotonic,
        counters: LoginCounters | None = None,
    ) -> None:
        """`counters`: where the counts live (default: this process, on `clock`)."""
        self.policy = policy
        self._locks = locks
        self.counters: LoginCounters = counters or LocalLoginCounters(clock)
        self._accounts = policy.account_budget
        self._addresses = policy.address_budget
        # Admission and locking of one username never interleave in this process (they
        # await the store); across replicas see `admit`.
        self._mutexes: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def failures(self, username: str) -> int:
        return await self.counters.failures(self._accounts, username)

    async def address_failures(self, address: str) -> int:
        return await self.counters.failures(self._addresses, address_key(address))

    async def wait(self, username: str, address: str | None = None) -> float:
        """Seconds until the backoff lets `username` (from `address`) try again; 0.0: now.
        (Whether it is locked is the store's to say.)"""
        waits = [await self.counters.wait(self._accounts, username)]
        if address is not None:
            waits.append(await self.counters.wait(self._addresses, address_key(address)))
        return max([0.0, *waits])

    async def admit(self, username: str, address: str) -> Attempt | Refusal:
        """Admit an attempt (the caller then checks the password), or refuse it."""
        counters = self.counters
        site_key = address_key(address)
        site = await counters.admit(self._addresses, site_key, count_refusal=True)
        if not isinstance(site, Slot):
            return _refusal("too_many_attempts", site)
        account: Slot | float = 0.0
        held = True  # the slots are ours to give back if this fails
        try:
            async with self._mutex(username):
                # The username's slot is taken before the store is asked whether it is
                # locked: whoever locks it (this replica or another) forgets its counters
                # only once the lock is written, so an attempt finds either the counters
                # (closed) or the lock, never neither.
                account = await counters.admit(self._accounts, username, count_refusal=False)
                locked = await self._locks.login_locked(username)
                held = False
                return await self._decide(username, address, site, account, locked)
        except BaseException:
            if held:
                await counters.release(self._addresses, site_key, site)
                if isinstance(account, Slot):
                    await counters.release(self._accounts, username, account)
            raise

    async def _decide(
        self, username: str, address: str, site: Slot, account: Slot | float, locked: bool
    ) -> Attempt | Refusal:
        """Under the username's mutex, with both answers in."""
        counters, policy = self.counters, self.policy
        if isinstance(account, Slot):
            if not locked:
                return Attempt(self, username, address, site, account)
            await counters.release(self._accounts, username, account)
            wait = 0.0
        else:
            wait = account
        await counters.refused(self._addresses, address_key(address), site)
        if locked:
            return _refusal("locked", policy.backoff_max_seconds)
        failures = await counters.refused(self._accounts, username, None)
        if failures >= policy.lockout_failures:
            await self._lock(username, failures)
            return _refusal("locked", policy.backoff_max_seconds)
        return _refusal("too_many_attempts", wait)

    async def attempt(
        self, username: str, address: str, check: Callable[[], Awaitable[T | None]]
    ) -> T | Refusal | None:
        """Admit, then run `check` (the password check: None means wrong) and count its
        outcome; or refuse without running it. `HashingBusy` from `check` is a refusal."""
        admitted = await self.admit(username, address)
        if isinstance(admitted, Refusal):
            return admitted
        try:
            result = await check()
        except HashingBusy:
            await admitted.abandon()
            return _refusal("busy", 1.0)
        except BaseException:
            await admitted.abandon()
            raise
        if result is None:
            await admitted.failed()
        else:
            await admitted.succeeded()
        return result

    # -- outcomes ---------------------------------------------------------------------

    async def _failed(self, attempt: Attempt) -> None:
        counters = self.counters
        await counters.failed(self._addresses, address_key(attempt.address), attempt.site_slot)
        async with self._mutex(attempt.username):
            failures = await counters.failed(self._accounts, attempt.username, attempt.account_slot)
            if failures >= self.policy.lockout_failures:
                await self._lock(attempt.username, failures)

    async def _succeeded(self, attempt: Attempt) -> None:
        await self.counters.release(
            self._addresses, address_key(attempt.address), attempt.site_slot
        )
        # The right password: this username starts afresh (other attempts still being
        # checked end as they end).
        await self.counters.succeeded(self._accounts, attempt.username, attempt.account_slot)

    async def _release(self, attempt: Attempt) -> None:
        await self.counters.release(
            self._addresses, address_key(attempt.address), attempt.site_slot
        )
        await self.counters.release(self._accounts, attempt.username, attempt.account_slot)

    # -- helpers ----------------------------------------------------------------------

    async def _lock(self, username: str, failures: int) -> None:
        """Write the lock; the store holds this username's state from now on."""
        await self._locks.lock_login(username, failures)
        await self.counters.forget(self._accounts, username)

    def _mutex(self, username: str) -> asyncio.Lock:
        mutex = self._mutexes.get(username)
        if mutex is None:
            mutex = self._mutexes[username] = asyncio.Lock()
        return mutex


def address_key(address: str) -> str:
    """The client address a budget belongs to: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)
