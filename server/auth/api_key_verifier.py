"""Checking a presented `X-API-Key: lh_<prefix>_<secret>`, with a short per-process cache."""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models.access import ApiKey
from db.pii import PersonalDataVault
from db.session import start_counting
from resolvers.access import PartnerGrant, Role, Viewer
from server.auth.api_keys import API_KEY_SCHEME, HASH_FIELD, KEY_ROWS, PREFIX_LENGTH, key_info
from server.auth.errors import AuthenticationError
from server.caches import BoundedCache

T = TypeVar("T")

KEY_CACHE_SECONDS = 30.0  # how long a revoked API key may still be accepted by a running server
CACHED_PREFIXES = 10_000
LIVE_PREFIXES_SECONDS = 10.0
"""How old the list of every live key's prefix may be when it decides, for an address past
its failure limit, that a prefix names no key: a key made within this time may be refused
there until the list is read again."""
TOUCH_INTERVAL_SECONDS = 60.0
UNKNOWN_KEY = "unknown or revoked API key"


@dataclass(frozen=True)
class _CachedKey:
    secret_hash: bytes
    grant: PartnerGrant | None  # None: revoked, or no key has this prefix
    expires: float


_NO_SECRET = b""


class ApiKeyVerifier:
    """Verifies `lh_<prefix>_<secret>` keys against the `api_keys` table.

    Prefixes looked up are cached in this process for `cache_seconds` (30 s by default), found
    or not, so a hot key costs no SQL (a revocation takes effect within that time) and neither
    does a repeated unknown prefix. At most `CACHED_PREFIXES` are kept (least recently used
    first out), however many prefixes clients make up. `last_used_at` is written at most once a
    minute per key (and only when the stored value is older than that, so several processes
    don't all write it). The SQL run here is not counted in a request's X-SQL-Statements: it
    depends on the cache, not on the query.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        vault: PersonalDataVault,
        *,
        cache_seconds: float = KEY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: BoundedCache[str, _CachedKey] = BoundedCache(CACHED_PREFIXES)
        self._touched: dict[int, float] = {}
        self._live_prefixes: frozenset[str] = frozenset()
        self._live_prefixes_read = -math.inf
        self._live_prefixes_lock = asyncio.Lock()

    async def verify(self, presented: str, *, known_prefixes_only: bool = False) -> PartnerGrant:
        """The grant of a valid key; AuthenticationError otherwise.

        `known_prefixes_only`: a prefix this process has not looked up lately costs no lookup
        of its own: it is checked against the list of every live key's prefix (one statement
        for all of them, at most every `LIVE_PREFIXES_SECONDS`), and refused when not in it.
        """
        prefix, secret = split_api_key(presented)
        if known_prefixes_only and not await self._may_be_live(prefix):
            raise AuthenticationError(UNKNOWN_KEY)
        cached = await self._cached(prefix)
        presented_hash = self.vault.lookup_hash(HASH_FIELD, secret)
        if cached.grant is None or not hmac.compare_digest(cached.secret_hash, presented_hash):
            raise AuthenticationError(UNKNOWN_KEY)
        await self._record_use(cached.grant.key_id)
        return cached.grant

    async def _may_be_live(self, prefix: str) -> bool:
        cached = self._cache.get(prefix)
        if cached is not None and cached.expires > self.clock():
            return cached.grant is not None
        async with self._live_prefixes_lock:
            if self.clock() - self._live_prefixes_read >= LIVE_PREFIXES_SECONDS:
                self._live_prefixes = await outside_statement_count(self._load_live_prefixes())
                self._live_prefixes_read = self.clock()
        return prefix in self._live_prefixes

    async def _load_live_prefixes(self) -> frozenset[str]:
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(ApiKey.prefix).where(ApiKey.revoked_at.is_(None))
            )
            return frozenset(found.scalars())

    async def _cached(self, prefix: str) -> _CachedKey:
        now = self.clock()
        cached = self._cache.get(prefix)
        if cached is None or cached.expires <= now:
            cached = await outside_statement_count(self._load(prefix, now + self.cache_seconds))
            self._cache.put(prefix, cached)
        return cached

    async def _record_use(self, key_id: int) -> None:
        now = self.clock()
        touched = self._touched.get(key_id)
        if touched is None or now - touched >= TOUCH_INTERVAL_SECONDS:
            self._touched[key_id] = now
            await outside_statement_count(self._touch(key_id))

    async def _load(self, prefix: str, expires: float) -> _CachedKey:
        async with self.engine.connect() as connection:
            found = await connection.execute(KEY_ROWS.where(ApiKey.prefix == prefix))
            row = found.mappings().first()
        if row is None:
            return _CachedKey(_NO_SECRET, None, expires)
        return _CachedKey(row["secret_hash"], key_info(row).grant, expires)

    async def _touch(self, key_id: int) -> None:
        recently = func.now() - timedelta(seconds=TOUCH_INTERVAL_SECONDS)
        async with self.engine.begin() as connection:
            await connection.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < recently))
                .values(last_used_at=func.now())
            )


def split_api_key(value: str) -> tuple[str, str]:
    """(prefix, secret) of `lh_<prefix>_<secret>`."""
    end = len(API_KEY_SCHEME) + PREFIX_LENGTH
    if not value.startswith(API_KEY_SCHEME) or len(value) <= end + 1 or value[end] != "_":
        raise AuthenticationError("malformed API key; expected lh_<prefix>_<secret>")
    return value[len(API_KEY_SCHEME) : end], value[end + 1 :]


def partner_viewer(grant: PartnerGrant, client_address: str | None = None) -> Viewer:
    return Viewer(
        Role.PARTNER,
        subject=f"partner:{grant.partner}",
        partner=grant,
        client_address=client_address,
    )


async def outside_statement_count(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` with its own SQL statement counter, so the request's count leaves it out."""
    context = contextvars.copy_context()
    context.run(start_counting)
    return await asyncio.create_task(work, context=context)
