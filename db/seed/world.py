"""What the generators share: one random source, the reference data, the rows made so far."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from db.models import Base
from db.models.enums import SalaryUnit
from db.pii import PersonalDataVault
from db.reference_data import read_reference_rows
from db.seed.errors import SeedError
from db.seed.places import Places
from db.seed.scales import Scale
from db.seed.vocabularies import SECTORS, Sector

Row = tuple[object, ...]


@dataclass
class World:
    """What later tables need to know about the rows generated before them.

    The per-row lists are indexed by id - 1.
    """

    rng: random.Random
    scale: Scale
    vault: PersonalDataVault
    places: Places
    occupations: dict[str, str]
    skills: list[str]
    now: datetime
    worker_homes: list[str] = field(default_factory=list)
    worker_flexible: list[bool] = field(default_factory=list)
    employer_regions: list[str] = field(default_factory=list)
    employer_sectors: list[Sector] = field(default_factory=list)
    employer_names: list[str] = field(default_factory=list)
    job_windows: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    # Per job: the salary unit and range in cents.
    job_pay: list[tuple[SalaryUnit, int, int]] = field(default_factory=list)
    # Per hired application: its id, worker id, job id, and when it was set to hired.
    hirings: list[tuple[int, int, int, datetime]] = field(default_factory=list)
    trainings: list[tuple[int, int, date, date]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def ago(self, max_days: float, min_days: float = 0) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(min_days, max_days))

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def worker_id(self) -> int:
        return self.rng.randint(1, self.scale.workers)

    def side_rng(self) -> random.Random:
        """A random source for a table that no later table reads: seeded from a copy of `rng`,
        which it leaves where it was, so adding such a table changes no other table's rows."""
        copy = random.Random()
        copy.setstate(self.rng.getstate())
        return random.Random(copy.getrandbits(64))


def create_world(scale: Scale, vault: PersonalDataVault, seed: int) -> World:
    occupations = _reference_names("occupations")
    missing = {c for s in SECTORS.items for c in s.occupations} - occupations.keys()
    if missing:
        raise SeedError(f"Occupations used by the seed are missing from occupations.csv: {missing}")
    return World(
        rng=random.Random(seed),
        scale=scale,
        vault=vault,
        places=Places.load(),
        occupations=occupations,
        skills=sorted(_reference_names("skills")),
        now=datetime.now(UTC),
    )


def _reference_names(table: str) -> dict[str, str]:
    """Code -> name of a reference table, as in its CSV file."""
    rows = read_reference_rows(Base.metadata.tables[table])
    return {str(row["code"]): str(row["name"]) for row in rows}


def unique(seen: set[str], draws: Iterator[str]) -> str:
    """The first of `draws` not seen before (random codes can collide)."""
    value = next(draw for draw in draws if draw not in seen)
    seen.add(value)
    return value


def yuan(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)
