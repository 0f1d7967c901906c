"""Workers, their skills, the jobs they are looking for and their skill surveys."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from db.codes import generate_id_number
from db.models import JobIntention, SkillSurvey, Worker, WorkerSkill
from db.seed.tables import Load
from db.seed.vocabularies import (
    EDUCATION,
    GIVEN_FEMALE,
    GIVEN_MALE,
    INTENTION_COUNTS,
    SECTORS,
    SERVICE_POINTS,
    SKILL_COUNTS,
    SURNAMES,
    SURVEY_COUNTS,
    TRAINING_NEEDS,
)
from db.seed.world import Row, World, unique


def _person_name(rng: random.Random, male: bool) -> str:
    chars = GIVEN_MALE if male else GIVEN_FEMALE
    length = 1 if rng.random() < 0.35 else 2
    return SURNAMES.pick(rng) + "".join(rng.choice(chars) for _ in range(length))


def _birth_date(world: World) -> date:
    """Ages 18 to 60, most around 40 (the average migrant worker is about 42)."""
    return world.today - timedelta(days=round(world.rng.triangular(18 * 366, 60 * 365, 40 * 365)))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def worker_rows(world: World) -> Iterator[Row]:
    rng, seen = world.rng, set[str]()
    for worker_id in range(1, world.scale.workers + 1):
        male = rng.random() < 0.64
        birth, hukou = _birth_date(world), world.places.pick_origin(rng)
        id_number = unique(
            seen,
            (generate_id_number(hukou, birth, rng.randrange(500), male) for _ in itertools.count()),
        )
        sealed_id = world.vault.seal_id_number(id_number)
        phone = world.vault.seal_phone(_phone(rng)) if rng.random() < 0.95 else None
        draw = rng.random()
        current = world.places.pick_destination(rng) if draw < 0.8 else hukou
        flexible = rng.random() < 0.12
        world.worker_homes.append(current)
        world.worker_flexible.append(flexible)
        created = world.ago(3 * 365)
        yield (
            worker_id, _person_name(rng, male),
            sealed_id.encrypted, sealed_id.hash, sealed_id.masked,
            "male" if male else "female", birth,
            phone.encrypted if phone else None, phone.hash if phone else None,
            phone.masked if phone else None,
            hukou, current if draw < 0.95 else None, EDUCATION.pick(rng).value, flexible,
            created, created,
        )  # fmt: skip


def worker_skill_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    for worker_id in range(1, world.scale.workers + 1):
        for skill in rng.sample(world.skills, SKILL_COUNTS.pick(rng)):
            yield worker_id, skill, rng.randint(1, 5)


def _wanted_occupations() -> list[str]:
    return sorted({code for sector in SECTORS.items for code in sector.occupations})


def job_intention_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    wanted = _wanted_occupations()
    for worker_id in range(1, world.scale.workers + 1):
        for _ in range(INTENTION_COUNTS.pick(rng)):
            region = world.places.pick_destination(rng) if rng.random() < 0.9 else None
            salary = Decimal(rng.randrange(4_000, 10_001, 500))
            yield worker_id, rng.choice(wanted), region, salary


def skill_survey_rows(world: World) -> Iterator[Row]:
    """Up to three surveys of three workers in five, oldest first, over the last two years:
    skills, one to three occupations sought, current regions, a monthly salary, mostly taken
    by a service point (the rest filled in by the worker). Drawn from a random source of its
    own (no later table reads them), so the other tables keep their rows."""
    rng, wanted = world.side_rng(), _wanted_occupations()
    for worker_id in range(1, world.scale.workers + 1):
        days_ago = [rng.uniform(0, 2 * 365) for _ in range(SURVEY_COUNTS.pick(rng))]
        for surveyed_at in (world.now - timedelta(days=d) for d in sorted(days_ago, reverse=True)):
            regions = {world.places.pick_destination(rng) for _ in range(rng.randint(0, 2))}
            point = rng.choice(SERVICE_POINTS) if rng.random() < 0.85 else None
            yield (
                worker_id,
                rng.sample(world.skills, SKILL_COUNTS.pick(rng)),
                rng.sample(wanted, rng.randint(1, 3)),
                sorted(regions),
                Decimal(rng.randrange(3_500, 12_001, 500)) if rng.random() < 0.9 else None,
                rng.random() < 0.4,
                rng.choice(TRAINING_NEEDS) if rng.random() < 0.6 else None,
                point,
                surveyed_at,
                "staff:seed" if point else f"worker:seed-{worker_id}",
                surveyed_at,
            )


LOADS = (
    Load.of(
        Worker, worker_rows, lambda s: s.workers,
        defaulted=("version", "recommendation_opt_out", "recommendation_preference_at"),
    ),
    Load.of(WorkerSkill, worker_skill_rows),
    Load.of(JobIntention, job_intention_rows, defaulted=("id",)),
    Load.of(SkillSurvey, skill_survey_rows, defaulted=("id",)),
)
