"""Subsidised vocational trainings and the workers enrolled in them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from db.models import Enrollment, Training
from db.models.enums import EnrollmentStatus, TrainingKind, TrainingMode
from db.seed.tables import Load
from db.seed.vocabularies import (
    KIND_LABELS,
    PROVIDER_KINDS,
    SECTORS,
    TRAINING_KINDS,
    TRAINING_MODES,
)
from db.seed.world import Row, World


def training_rows(world: World) -> Iterator[Row]:
    rng, places = world.rng, world.places
    for training_id in range(1, world.scale.trainings + 1):
        kind, mode = TRAINING_KINDS.pick(rng), TRAINING_MODES.pick(rng)
        partner = (
            None if mode is TrainingMode.PROJECT_BASED else rng.randrange(world.scale.employers)
        )
        if partner is None:
            sector, region = SECTORS.pick(rng), places.pick_origin(rng)
        else:
            sector, region = world.employer_sectors[partner], world.employer_regions[partner]
        starts = world.today + timedelta(days=rng.randint(-365, 60))
        ends = starts + timedelta(days=rng.randint(5, 60))
        capacity = rng.randrange(20, 101, 5)
        if kind is TrainingKind.ENTREPRENEURSHIP:
            occupation, subject = None, "创业培训（SYB）班"
        else:
            occupation = rng.choice(sector.occupations)
            subject = world.occupations[occupation] + KIND_LABELS[kind]
        title = f"{starts.year}年{places.names[region]}{subject}"
        provider = places.city_name(region) + rng.choice(PROVIDER_KINDS)
        world.trainings.append((training_id, capacity, starts, ends))
        created = min(world.now, _at(starts - timedelta(days=30), 9))
        yield (
            training_id, title, kind.value, mode.value, provider,
            None if partner is None else partner + 1, occupation, region, starts, ends,
            capacity, rng.random() < 0.8, created,
        )  # fmt: skip


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), UTC)


def _enrollment_status(world: World, starts: date, ends: date) -> EnrollmentStatus:
    draw = world.rng.random()
    if ends < world.today:
        return EnrollmentStatus.COMPLETED if draw < 0.8 else EnrollmentStatus.DROPPED
    if starts < world.today and draw < 0.1:
        return EnrollmentStatus.DROPPED
    return EnrollmentStatus.ENROLLED


def enrollment_rows(world: World) -> Iterator[Row]:
    """Seats drawn at random across all trainings, so no training exceeds its capacity."""
    rng = world.rng
    seats = [t for t, capacity, _, _ in world.trainings for _ in range(capacity)]
    taken = Counter(rng.sample(seats, min(world.scale.enrollments, len(seats))))
    for training_id, _, starts, ends in world.trainings:
        count = min(taken[training_id], world.scale.workers)
        for number, worker_id in enumerate(rng.sample(range(1, world.scale.workers + 1), count)):
            status = _enrollment_status(world, starts, ends)
            enrolled = min(world.now, _at(starts - timedelta(days=rng.randint(1, 20)), 10))
            completed = _at(ends, 17) if status is EnrollmentStatus.COMPLETED else None
            certificate = f"{ends:%Y}{training_id:06d}{number + 1:03d}" if completed else None
            yield worker_id, training_id, status.value, certificate, enrolled, completed


LOADS = (
    Load.of(
        Training, training_rows, lambda s: s.trainings,
        defaulted=("version", "cancelled_at", "seats_taken"),
    ),
    Load.of(Enrollment, enrollment_rows, lambda s: s.enrollments, defaulted=("id", "version")),
)
