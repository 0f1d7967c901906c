"""Rate limits per principal: a token bucket in process memory.

Each principal (`Viewer.principal`: `worker:<sub>`, `key:<id>`, `anonymous:<address>`...) has a
bucket holding up to `burst` tokens, refilled at `per_minute / 60` tokens a second. Every
operation takes one token (a batch of N operations takes N at once, or is refused whole); an
empty bucket means HTTP 429 with `Retry-After`, the seconds until enough tokens are back.

Memory is bounded: a bucket that has refilled completely is the same as no bucket and is
dropped when the table is swept; beyond `max_principals` buckets the least recently used ones
are dropped (which only ever errs in the caller's favour).

Several processes: each process takes from its own buckets, and `server.shared_limits` syncs
them through PostgreSQL about once a second (`db.rate_buckets`): what each took is taken from
one shared bucket per principal, whose balance every process then adopts. So the limit holds
for a principal across `laborhub serve --workers N` and across instances; between two syncs
each process may spend what the shared bucket had, and any overspending is a debt (negative
tokens) repaid before the principal is served again. A principal new to a process starts there
with a full bucket until that process's next sync; a process in which a principal has spent
half a burst since the last sync syncs at once, so a burst spread over N processes overshoots
by at most about N half-bursts.

Anonymous callers are keyed by client address; behind a reverse proxy, run uvicorn with
`--proxy-headers --forwarded-allow-ips=<proxy>` so that address is the client's, not the
proxy's.

The same buckets count failed credentials per client address (`failure_limiter`): each bad
token or API key takes a token, and an address whose bucket is empty is answered 429 before
its credential is even checked (`wait`, which looks without taking).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

MAX_PRINCIPALS = 100_000
SWEEP_EVERY = 1_000  # takes between sweeps of full buckets


class RateLimiter(Protocol):
    def take(self, principal: str, tokens: int = 1) -> float | None:
        """Take `tokens` for `principal`: None when allowed, else seconds until they would be."""
        ...

    def describe(self) -> str:
        """The limit in words, for error messages."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Token buckets per principal, in this process's memory (see the module docstring)."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_principals: int = MAX_PRINCIPALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens per second
        self.capacity = float(burst)
        self.max_principals = max_principals
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._takes = 0
        self._unsynced: dict[str, float] = {}  # taken since the last sync, per principal
        self.on_pressure: Callable[[], None] | None = None  # set by server.shared_limits

    def take(self, principal: str, tokens: int = 1) -> float | None:
        now = self.clock()
        wanted = self._wanted(tokens)
        bucket = self._buckets.pop(principal, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
        else:
            bucket.tokens = self._refilled(bucket, now)
            bucket.updated = now
        self._buckets[principal] = bucket  # most recently used last
        self._housekeeping(now)
        if bucket.tokens >= wanted:
            bucket.tokens -= wanted
            unsynced = self._unsynced.get(principal, 0.0) + wanted
            self._unsynced[principal] = unsynced
            if unsynced >= self.capacity / 2 and self.on_pressure is not None:
                self.on_pressure()  # half a burst spent since the last sync: sync now
            return None
        return (wanted - bucket.tokens) / self.rate

    # --- syncing with other processes (server.shared_limits) -----------------------------

    def take_unsynced(self, at_most: int) -> dict[str, float]:
        """What was taken since the last call, per principal (all of them), then (as 0, to
        learn what others took) the other principals with a bucket here, the most recently
        used first, while there are fewer than `at_most`."""
        taken, self._unsynced = self._unsynced, {}
        for principal in self._recent():
            if len(taken) >= at_most:
                break
            taken.setdefault(principal, 0.0)
        return taken

    def keep_unsynced(self, taken: dict[str, float]) -> None:
        """Take `taken` back into what the next sync sends (this one failed)."""
        for principal, tokens in taken.items():
            if tokens > 0:
                self._unsynced[principal] = self._unsynced.get(principal, 0.0) + tokens

    def adopt(self, balances: dict[str, float]) -> None:
        """The shared buckets' balances as of now, less what was taken here meanwhile (it goes
        out with the next sync)."""
        now = self.clock()
        for principal, tokens in balances.items():
            left = min(tokens, self.capacity) - self._unsynced.get(principal, 0.0)
            bucket = self._buckets.get(principal)
            if bucket is None:
                if left < self.capacity:
                    self._buckets[principal] = _Bucket(left, now)
                continue
            bucket.tokens = left
            bucket.updated = now

    def _recent(self) -> Iterator[str]:
        return reversed(self._buckets)

    def wait(self, principal: str, tokens: int = 1) -> float | None:
        """What `take` would answer, taking nothing: None, or the seconds until it would not."""
        bucket = self._buckets.get(principal)
        if bucket is None:
            return None
        available = self._refilled(bucket, self.clock())
        wanted = self._wanted(tokens)
        return None if available >= wanted else (wanted - available) / self.rate

    def _wanted(self, tokens: int) -> float:
        # More than the burst can never be taken at once: charge a full bucket instead.
        return min(float(tokens), self.capacity)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(now - bucket.updated, 0.0)
        return min(self.capacity, bucket.tokens + elapsed * self.rate)

    def describe(self) -> str:
        per_minute = f"{self.per_minute:g}"
        return f"{per_minute} operations per minute, bursts of {self.capacity:g}"

    def __len__(self) -> int:
        return len(self._buckets)

    def _housekeeping(self, now: float) -> None:
        self._takes += 1
        if self._takes % SWEEP_EVERY == 0 or len(self._buckets) > self.max_principals:
            self._drop_full(now)
        while len(self._buckets) > self.max_principals:
            self._buckets.popitem(last=False)

    def _drop_full(self, now: float) -> None:
        refill_time = self.capacity / self.rate
        idle = [
            principal
            for principal, bucket in self._buckets.items()
            if now - bucket.updated >= refill_time - bucket.tokens / self.rate
        ]
        for principal in idle:
            del self._buckets[principal]


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(seconds)))


def limiter_from_settings(per_minute: int, burst: int) -> TokenBucketLimiter | None:
    """The app's limiter; `per_minute <= 0` turns rate limiting off (e.g. for test suites)."""
    if per_minute <= 0:
        return None
    return TokenBucketLimiter(per_minute, max(burst, 1))


def failure_limiter(
    limit: int, window_seconds: float, *, clock: Callable[[], float] = time.monotonic
) -> TokenBucketLimiter | None:
    """Failed credentials per client address: `limit` at once, `limit` more per window (so
    after `limit` failures in a window the address waits); `limit <= 0` turns it off."""
    if limit <= 0 or window_seconds <= 0:
        return None
    return TokenBucketLimiter(limit * 60.0 / window_seconds, limit, clock=clock)


__all__ = [
    "RateLimiter",
    "TokenBucketLimiter",
    "failure_limiter",
    "limiter_from_settings",
    "retry_after_header",
]
