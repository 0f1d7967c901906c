"""What reads and writes need: the engine (each write is one transaction), the personal-data
vault, the pool of driver connections for statements sent past SQLAlchemy (compiled reads),
and the read replica when there is one, with the request's route to it.

Writes always use `engine`, the primary (audit events of reads included). Reads go through
`Database.read`: to the replica when one is configured and the request's `ReadRoute` allows
it, else (and whenever the replica can't answer) to the primary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from db.replica import Replica, recovery_conflict, unreachable
from db.session import database_unavailable
from db.statement_pool import StatementPool

log = logging.getLogger("laborhub.db")

T = TypeVar("T")


class ReadSource(Protocol):
    """Where a read runs: the primary (`Database`) or the replica (`Replica`)."""

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def statements(self) -> StatementPool | None: ...


Read = Callable[[ReadSource], Awaitable[T]]
"""A read, given where to run: idempotent, as it may run on the replica and then the primary."""


class ReadRoute:
    """Where one HTTP request's reads may go; its operations (a batch) share it.

    - `after`: the write position the client sent back (`db.replica.parse_position`): reads
      see nothing older. The replica serves them once it has replayed that far, waited for
      once per request (at most the replica's `wait_seconds`); else the primary does.
    - `writing()`: the request writes (a mutation runs); from then on its reads, the
      mutation's payload and later operations of a batch, go to the primary.
    """

    def __init__(self, after: int | None = None) -> None:
        self.after = after
        self.written = False
        self._caught_up: bool | None = None if after is not None else True
        self._lock = asyncio.Lock()

    def writing(self) -> None:
        self.written = True

    async def replica_serves(self, replica: Replica) -> bool:
        if self.written or not replica.available():
            return False
        if self._caught_up is None:
            assert self.after is not None
            async with self._lock:  # sibling resolvers wait once, together
                if self._caught_up is None:
                    self._caught_up = await replica.replayed(self.after)
        return self._caught_up


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine  # the primary: every write, and the reads the replica does not serve
    vault: PersonalDataVault
    statements: StatementPool | None = None  # None: such statements use the engine's pool
    replica: Replica | None = None  # DATABASE_READ_URL: queries read from it
    route: ReadRoute | None = None  # one request's (see `routed`); None: no write to follow

    def routed(self, route: ReadRoute) -> Database:
        """The same database, its reads following `route` (one request's); without a replica
        every read is on the primary, and there is nothing to route."""
        return self if self.replica is None else replace(self, route=route)

    async def read(self, work: Read[T]) -> T:
        """`work(source)` on the replica when the route allows it and the replica answers,
        else on the primary: a replica that can't be reached trips its breaker, and a query
        it cancels for a conflict with recovery runs again on the primary."""
        replica = self.replica
        if replica is not None and await (self.route or _NO_WRITES).replica_serves(replica):
            try:
                result = await work(replica)
            except Exception as exc:
                if unreachable(exc):
                    replica.failed(exc)
                elif database_unavailable(exc):
                    log.info("The read replica's pool is busy; reading from the primary")
                elif recovery_conflict(exc):
                    log.info("The read replica cancelled a read (recovery); the primary reads it")
                else:
                    raise
            else:
                replica.answered()
                return result
        return await work(self)


_NO_WRITES = ReadRoute()
"""The route of reads outside any request: no write to wait for, never writing."""
