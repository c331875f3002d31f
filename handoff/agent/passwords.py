"""Agent passwords: scrypt hashes, computed off the event loop, a bounded number at a time.

scrypt is slow and memory-hard on purpose (n=2**14, r=8: 16 MiB and tens of milliseconds
per hash), which is exactly what must not run on the gateway's event loop: 150 sign-ins
at once used to stall every request, /healthz included, for seconds. `PasswordHasher`
runs each hash on a small thread pool (hashlib.scrypt releases the GIL), at most
`slots` at once (an `asyncio.Semaphore` and a pool of the same size).

Excess sign-ins *wait* for a slot, up to `queue` of them; one more is refused at once
(`HashingBusy`, answered 429 with `Retry-After: 1`). Waiting is the right default for
people: a burst of agents signing in at 9:00 just queues for a few hundred
milliseconds. The bound is what keeps a flood from piling up unbounded work and
unbounded waits: the longest anyone waits is about `queue * hash time / slots`. Floods
from one address or at one username are stopped earlier, before any hashing, by the
throttle in `handoff/agent/login_guard.py`.

Unknown usernames are checked against one dummy hash computed at start-up with the
same parameters, so a sign-in costs exactly one scrypt whether or not the username
exists (timing must not tell which usernames are real).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Final

_SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        **_SCRYPT,
        salt=base64.b64encode(salt).decode(),
        digest=base64.b64encode(digest).decode(),
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            dklen=32,
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


class HashingBusy(RuntimeError):
    """Every hashing slot is taken and `queue` sign-ins already wait for one."""


class PasswordHasher:
    """scrypt on a thread pool, at most `slots` at once and `queue` waiting."""

    def __init__(self, slots: int = 1, queue: int = 32) -> None:
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="scrypt")
        self._semaphore = asyncio.Semaphore(self.slots)
        self._waiting = 0
        # Computed now, once: an unknown username is verified against it.
        self._dummy = hash_password(secrets.token_urlsafe(16))

    @property
    def waiting(self) -> int:
        return self._waiting

    async def hash(self, password: str) -> str:
        async with self._slot():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, hash_password, password)

    async def verify(self, password: str, stored: str | None) -> bool:
        """`stored` None (no such user) costs the same one scrypt and is always False."""
        async with self._slot():
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(
                self._pool, verify_password, password, self._dummy if stored is None else stored
            )
        return ok and stored is not None

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._semaphore.locked() and self._waiting >= self.queue:
            raise HashingBusy(f"{self.slots} password checks running and {self._waiting} waiting")
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
