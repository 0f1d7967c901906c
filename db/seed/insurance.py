"""Monthly social insurance contributions: runs of consecutive months per insured worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from db.models import InsuranceRecord
from db.models.enums import InsuranceType
from db.partitions import Partition, ensure_partitions
from db.seed.tables import Load
from db.seed.vocabularies import (
    BASIC_COVERAGE,
    CONTRIBUTION_STATUSES,
    EMPLOYEE_RATES,
    FLEXIBLE_RATES,
    INSURANCE_MONTHS,
)
from db.seed.world import Row, World, yuan


def _recent_months(today: date, count: int) -> list[date]:
    """The first days of the `count` complete months before `today`, oldest first."""
    months: list[date] = []
    month = today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def _contribution(base_cents: int, rates: tuple[int, int]) -> tuple[Decimal, Decimal, Decimal]:
    """Base, employer amount, personal amount in yuan, rounded half up to the cent."""
    employer, personal = ((base_cents * rate + 5_000) // 10_000 for rate in rates)
    return yuan(base_cents), yuan(employer), yuan(personal)


def _coverage(
    world: World, worker: int
) -> tuple[int | None, str, dict[InsuranceType, tuple[int, int]]]:
    """Who pays, in which pooling area, for which insurances at which rates."""
    rng = world.rng
    if (world.worker_flexible[worker] and rng.random() < 0.7) or rng.random() < 0.05:
        return None, world.places.prefecture(world.worker_homes[worker]), FLEXIBLE_RATES
    employer = rng.randrange(world.scale.employers)
    region = world.places.prefecture(world.employer_regions[employer])
    types = BASIC_COVERAGE if rng.random() < 0.25 else tuple(EMPLOYEE_RATES)
    return employer + 1, region, {kind: EMPLOYEE_RATES[kind] for kind in types}


def insurance_rows(world: World) -> Iterator[Row]:
    """Runs of consecutive months per insured worker: unique on (worker, type, region, period)."""
    rng = world.rng
    months = _recent_months(world.today, INSURANCE_MONTHS)
    produced = 0
    for worker in rng.sample(range(world.scale.workers), world.scale.workers):
        employer_id, region, rates = _coverage(world, worker)
        length = rng.randint(3, INSURANCE_MONTHS)
        start = rng.randint(0, INSURANCE_MONTHS - length)
        base_cents = rng.randrange(3_500, 12_001, 100) * 100
        for kind, kind_rates in rates.items():
            amounts = _contribution(base_cents, kind_rates)
            for period in months[start : start + length]:
                status = CONTRIBUTION_STATUSES.pick(rng)
                yield worker + 1, employer_id, kind.value, region, period, *amounts, status.value
                produced += 1
                if produced == world.scale.insurance_records:
                    return


async def insurance_partitions(conn: asyncpg.Connection, world: World) -> list[Partition]:
    """The partitions of every month the rows may fall in (made on demand)."""
    return await ensure_partitions(conn, _recent_months(world.today, INSURANCE_MONTHS))


LOADS = (
    Load.of(
        InsuranceRecord,
        insurance_rows,
        lambda s: s.insurance_records,
        defaulted=("id",),
        prepare=insurance_partitions,
    ),
)
