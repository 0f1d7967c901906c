"""The partitions of `insurance_records`: one per calendar year of `period`.

Migration 0007 partitions the table by range of `period` and says why by year. A row can only
be written once the partition for its period exists; there is no DEFAULT partition (rows in it
would have to be scanned and moved whenever the partition of their year is attached later).
Partitions are made two ways, both through `ensure_partitions`:

- ahead of time, by `laborhub maintain` (`ensure_partitions_ahead`: this month and the next N);
- on demand, by whatever writes rows, before it writes them (the seed does), for the periods
  it is about to write.

`ensure_partitions` looks first, without locking anything: when every partition is there (the
usual case) it costs one catalog query. Otherwise it takes a transaction-level advisory lock,
so that concurrent callers create each partition once and none fails on a half-made one,
looks again, and makes each missing partition as an empty table that it then attaches. That
takes a SHARE UPDATE EXCLUSIVE lock on `insurance_records` (reads and writes go on), where
`CREATE TABLE ... PARTITION OF` would take an ACCESS EXCLUSIVE one and queue every query on the
table behind the longest one running. Attaching clones the table's indexes, unique key and
foreign keys onto the new partition (it is empty, so that is instant).

The functions take an asyncpg connection (a SQLAlchemy `AsyncConnection`'s is
`(await connection.get_raw_connection()).driver_connection`); they make their changes in a
transaction, a savepoint of the caller's when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import asyncpg

PARENT = "insurance_records"
PARTITION_NAME = re.compile(rf"{PARENT}_y(\d{{4}})")
LOCK = f"laborhub.partitions.{PARENT}"
"""The advisory lock (by `hashtext` of this name) that partition makers take in turn."""


@dataclass(frozen=True, order=True)
class Partition:
    """The partition holding the periods of one calendar year: [Jan 1st, next Jan 1st)."""

    year: int

    @property
    def name(self) -> str:
        return f"{PARENT}_y{self.year:04d}"

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year + 1, 1, 1)

    def __str__(self) -> str:
        return f"{self.name} [{self.start}, {self.end})"


def partition_of(period: date) -> Partition:
    return Partition(period.year)


def is_partition(table_name: str) -> bool:
    """Whether a table is one of the partitions this module makes (named by year)."""
    return PARTITION_NAME.fullmatch(table_name) is not None


def months_ahead(today: date, months: int) -> list[date]:
    """The first days of `today`'s month and of the `months` months after it."""
    if months < 0:
        raise ValueError(f"months: expected at least 0, got {months}")
    first = today.year * 12 + today.month - 1
    return [date(m // 12, m % 12 + 1, 1) for m in range(first, first + months + 1)]


async def existing_partitions(conn: asyncpg.Connection) -> list[Partition]:
    """The partitions of `insurance_records` there are, by year."""
    names = await conn.fetch(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = $1::regclass",
        PARENT,
    )
    found = (PARTITION_NAME.fullmatch(row["relname"]) for row in names)
    return sorted(Partition(int(match[1])) for match in found if match is not None)


async def ensure_partitions(conn: asyncpg.Connection, periods: Iterable[date]) -> list[Partition]:
    """Make the partitions that rows of `periods` go to, those missing; returns those made."""
    wanted = {partition_of(period) for period in periods}
    if wanted <= set(await existing_partitions(conn)):
        return []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK)
        missing = sorted(wanted.difference(await existing_partitions(conn)))
        for partition in missing:
            await _create(conn, partition)
    return missing


async def ensure_partitions_ahead(
    conn: asyncpg.Connection, today: date, months: int
) -> list[Partition]:
    """Make the partitions of this month and the next `months` ones, those missing."""
    return await ensure_partitions(conn, months_ahead(today, months))


async def _create(conn: asyncpg.Connection, partition: Partition) -> None:
    # LIKE copies the columns with their collations, NOT NULLs, CHECK constraints (ATTACH
    # wants them all) and the id's default (the table's sequence) for rows written directly.
    await conn.execute(
        f"CREATE TABLE {partition.name}"
        f" (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    await conn.execute(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {partition.name}"
        f" FOR VALUES FROM ('{partition.start.isoformat()}') TO ('{partition.end.isoformat()}')"
    )
