"""Agent sign-in throttling: per-username and per-address backoff, and lockout.

Every sign-in attempt is admitted or refused here *before* any password is hashed, so
a refused attempt costs a dictionary lookup (and, for the username, one indexed SQLite
read), never a scrypt. The numbers are settings (`login_*` in stack/settings.py).

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
  are forgotten too (in memory: only the lock has to survive a restart).

Per client address (in memory, a short window): the same backoff after
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

One gateway process holds the counters; gateway replicas would each keep their own
(the lock is shared through the store). Shared counters belong in Redis with the
other rate limits.
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
        if failures <= free:
            return 0.0
        doublings = min(failures - free - 1, 40)  # 2**40 s is "the cap" already
        return min(self.backoff_max_seconds, self.backoff_seconds * 2.0**doublings)


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


class Attempt:
    """An admitted attempt: report how it ended exactly once."""

    def __init__(self, guard: LoginGuard, username: str, address: str) -> None:
        self._guard = guard
        self.username = username
        self.address = address
        self._open = True

    async def failed(self) -> None:
        if self._open:
            self._open = False
            await self._guard._failed(self)

    def succeeded(self) -> None:
        if self._open:
            self._open = False
            self._guard._succeeded(self)

    def abandon(self) -> None:
        """The password was never checked (busy, an error): counts for nothing."""
        if self._open:
            self._open = False
            self._guard._release(self)


class LoginGuard:
    def __init__(
        self, policy: LoginPolicy, locks: LockStore, clock: Clock = time.monotonic
    ) -> None:
        self.policy = policy
        self._locks = locks
        self._clock = clock
        self._accounts: dict[str, _Counter] = {}
        self._addresses: dict[str, _Counter] = {}
        # Admission and locking of one username never interleave (they await the store).
        self._mutexes: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._next_sweep = clock() + 60.0

    def failures(self, username: str) -> int:
        counter = self._accounts.get(username)
        return counter.failures if counter else 0

    def address_failures(self, address: str) -> int:
        counter = self._addresses.get(address_key(address))
        return counter.failures if counter else 0

    def wait(self, username: str, address: str | None = None) -> float:
        """Seconds until the backoff lets `username` (from `address`) try again; 0.0: now.
        (Whether it is locked is the store's to say.)"""
        now = self._clock()
        counters = [self._accounts.get(username)]
        if address is not None:
            counters.append(self._addresses.get(address_key(address)))
        return max([0.0] + [c.closed_until - now for c in counters if c is not None])

    async def admit(self, username: str, address: str) -> Attempt | Refusal:
        """Admit an attempt (the caller then checks the password), or refuse it."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        policy = self.policy
        site = _current(self._addresses, address_key(address), policy.address_window_seconds, now)
        wait = site.refuses(now, policy.address_free_failures)
        if wait:
            self._count(site, now)
            return _refusal("too_many_attempts", wait)
        site.in_flight += 1  # held across the store read below
        attempt = Attempt(self, username, address)
        async with self._mutex(username):
            try:
                locked = await self._locks.login_locked(username)
            except BaseException:
                site.in_flight -= 1
                raise
            if locked:
                site.in_flight -= 1
                self._count(site, now)
                return _refusal("locked", policy.backoff_max_seconds)
            account = _current(self._accounts, username, policy.account_window_seconds, now)
            wait = account.refuses(now, policy.free_failures)
            if not wait:
                account.in_flight += 1
                return attempt
            site.in_flight -= 1
            self._count(site, now)
            self._count(account, now)
            if account.failures >= policy.lockout_failures:
                await self._lock(username, account)
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
            admitted.abandon()
            return _refusal("busy", 1.0)
        except BaseException:
            admitted.abandon()
            raise
        if result is None:
            await admitted.failed()
        else:
            admitted.succeeded()
        return result

    # -- outcomes ---------------------------------------------------------------------

    async def _failed(self, attempt: Attempt) -> None:
        now = self._clock()
        policy = self.policy
        site = self._addresses.setdefault(address_key(attempt.address), _Counter())
        site.in_flight = max(0, site.in_flight - 1)
        self._count(site, now)
        site.closed_until = max(
            site.closed_until, now + policy.backoff(site.failures, policy.address_free_failures)
        )
        async with self._mutex(attempt.username):
            account = self._accounts.setdefault(attempt.username, _Counter())
            account.in_flight = max(0, account.in_flight - 1)
            self._count(account, now)
            if account.failures >= policy.lockout_failures:
                await self._lock(attempt.username, account)
                return
            account.closed_until = max(
                account.closed_until, now + policy.backoff(account.failures, policy.free_failures)
            )

    def _succeeded(self, attempt: Attempt) -> None:
        site = self._addresses.get(address_key(attempt.address))
        if site is not None:
            site.in_flight = max(0, site.in_flight - 1)
        # The right password: this username starts afresh (other attempts still being
        # checked end as they end).
        account = self._accounts.get(attempt.username)
        if account is not None:
            in_flight = max(0, account.in_flight - 1)
            self._accounts[attempt.username] = _Counter(in_flight=in_flight)

    def _release(self, attempt: Attempt) -> None:
        for counter in (
            self._addresses.get(address_key(attempt.address)),
            self._accounts.get(attempt.username),
        ):
            if counter is not None:
                counter.in_flight = max(0, counter.in_flight - 1)

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _count(counter: _Counter, now: float) -> None:
        counter.failures += 1
        counter.last_failure = now

    async def _lock(self, username: str, account: _Counter) -> None:
        """Write the lock; the store holds this username's state from now on."""
        await self._locks.lock_login(username, account.failures)
        self._accounts.pop(username, None)

    def _mutex(self, username: str) -> asyncio.Lock:
        mutex = self._mutexes.get(username)
        if mutex is None:
            mutex = self._mutexes[username] = asyncio.Lock()
        return mutex

    def _sweep(self, now: float) -> None:
        """Forget idle counters (memory stays bounded by recent traffic)."""
        for table, window in (
            (self._accounts, self.policy.account_window_seconds),
            (self._addresses, self.policy.address_window_seconds),
        ):
            stale = [
                key
                for key, c in table.items()
                if c.in_flight == 0 and now >= c.closed_until and now - c.last_failure > window
            ]
            for key in stale:
                del table[key]
        self._next_sweep = now + 60.0


def _current(table: dict[str, _Counter], key: str, window: float, now: float) -> _Counter:
    """The key's counter; failures older than `window` (and no wait left) are forgotten."""
    counter = table.get(key)
    if counter is None:
        counter = table[key] = _Counter()
    elif counter.failures and now >= counter.closed_until and now - counter.last_failure > window:
        counter.failures = 0
    return counter


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
