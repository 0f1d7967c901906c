"""Rate-limit buckets shared through PostgreSQL (the `rate_buckets` table).

Each process keeps its token buckets in memory and, about once a second, sends what it took
since the last exchange; one statement refills each shared bucket for the time passed, takes
those tokens and returns what is left, which the process adopts. A principal's limit then
holds across processes and instances: between two exchanges each process spends at most what
the shared bucket had, and what was overspent is a debt (negative tokens) that all repay.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# `excluded.tokens` is what a new bucket would hold (`capacity - taken`), so `taken` is
# `capacity - excluded.tokens`: the one way ON CONFLICT sees the inserted row's values.
EXCHANGE = text(
    """
    INSERT INTO rate_buckets AS b (limiter, principal, tokens, updated_at)
    SELECT :limiter, u.principal, :capacity - u.taken, now()
    FROM unnest(CAST(:principals AS text[]), CAST(:taken AS float8[])) AS u(principal, taken)
    ON CONFLICT (limiter, principal) DO UPDATE
    SET tokens = least(:capacity, b.tokens
                       + extract(epoch FROM now() - b.updated_at)::float8 * :rate)
                 - (:capacity - excluded.tokens),
        updated_at = now()
    RETURNING principal, tokens
    """
)

# A bucket untouched for its refill time is full again: the same as no row.
FORGET_FULL = text(
    """
    DELETE FROM rate_buckets
    WHERE limiter = :limiter AND updated_at < now() - make_interval(secs => :refill_seconds)
    """
)


async def exchange(
    engine: AsyncEngine,
    limiter: str,
    taken: Mapping[str, float],
    *,
    capacity: float,
    rate: float,
) -> dict[str, float]:
    """Take `taken` (principal: tokens, 0 to only look) from `limiter`'s shared buckets of
    `capacity`, refilled at `rate` tokens a second; the tokens each bucket has left."""
    if not taken:
        return {}
    principals = sorted(taken)  # one lock order for every process: no deadlocks
    parameters = {
        "limiter": limiter,
        "principals": principals,
        "taken": [float(taken[p]) for p in principals],
        "capacity": capacity,
        "rate": rate,
    }
    async with engine.begin() as connection:
        rows = await connection.execute(EXCHANGE, parameters)
        return {row.principal: float(row.tokens) for row in rows}


async def forget_full(engine: AsyncEngine, limiter: str, *, capacity: float, rate: float) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            FORGET_FULL, {"limiter": limiter, "refill_seconds": capacity / rate}
        )
