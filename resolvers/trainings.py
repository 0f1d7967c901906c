"""Skills trainings and the enrollments in them, declared; where a training stands now.

A training's status is derived where it is read, like a job's expiry: CANCELLED once
`cancelledAt` is set, ENDED after its last day, RUNNING from its first day, SCHEDULED before
it (the only status that takes enrollments), each day a day of China Standard Time
(`TRAINING_STATUS`, a `Derived` with its Python and SQL forms). Writes read the same
(`training_status`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, FromClause, case, cast, func, true

from db.models import Enrollment, Training
from db.models.base import table_of
from db.models.enums import EnrollmentStatus
from resolvers.access import Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Derived, Entity, Range, ToMany, ToOne
from resolvers.filters import (
    at_least_rule,
    at_most_rule,
    equals_rule,
    keyword_rule,
    occupation_rule,
    region_rule,
)
from resolvers.pagination import Ordering
from resolvers.policies import in_partner_regions, worker_records_under
from resolvers.workers import CALENDAR

TRAININGS = table_of(Training)
ENROLLMENTS = table_of(Enrollment)


def training_policy(viewer: Viewer) -> Condition:
    if viewer.partner is not None:
        return in_partner_regions(TRAININGS.c.region_code, viewer.partner)
    return true()


TRAINING_PARTNER_EMPLOYER = ToOne("Employer", TRAININGS.c.partner_employer_id)
TRAINING_OCCUPATION = ToOne("Occupation", TRAININGS.c.occupation_code)
TRAINING_REGION = ToOne("Region", TRAININGS.c.region_code)
TRAINING_ENROLLMENTS = ToMany(
    "Enrollment", ENROLLMENTS.c.training_id,
    Ordering.of(ENROLLMENTS.c.enrolled_at, descending=True),
)
TRAINING_ACTIVE_ENROLLMENTS = ToMany(
    "Enrollment", ENROLLMENTS.c.training_id,
    where=(ENROLLMENTS.c.status != EnrollmentStatus.DROPPED,),
)
ENROLLMENT_TRAINING = ToOne("Training", ENROLLMENTS.c.training_id)
ENROLLMENT_WORKER = ToOne("Worker", ENROLLMENTS.c.worker_id)

TRAINING = declare(Entity(
    "Training", TRAININGS, training_policy, key=TRAININGS.c.id,
    filters={
        "region_code": region_rule(TRAININGS.c.region_code),
        "occupation_code": occupation_rule(TRAININGS.c.occupation_code),
        "kind": equals_rule(TRAININGS.c.kind),
        "mode": equals_rule(TRAININGS.c.mode),
        "subsidised": equals_rule(TRAININGS.c.subsidised),
        "from_": at_least_rule(TRAININGS.c.ends_on),  # still running on or after that day
        "to": at_most_rule(TRAININGS.c.starts_on),  # started on or before that day
        "keyword": keyword_rule(TRAININGS.c.title),
    },
    ranges=(Range("from_", "to"),),
    orderings={"STARTS_ON": TRAININGS.c.starts_on, "CREATED_AT": TRAININGS.c.created_at},
    relations=(
        TRAINING_PARTNER_EMPLOYER, TRAINING_OCCUPATION, TRAINING_REGION, TRAINING_ENROLLMENTS,
        TRAINING_ACTIVE_ENROLLMENTS,
    ),
))
ENROLLMENT = declare(Entity(
    "Enrollment", ENROLLMENTS,
    worker_records_under(  # through the employer it partners with and its region
        ENROLLMENTS.c.worker_id, ENROLLMENTS.c.training_id, TRAININGS.c.partner_employer_id,
        TRAININGS.c.region_code,
    ),
    key=ENROLLMENTS.c.id, personal=True,
    relations=(ENROLLMENT_TRAINING, ENROLLMENT_WORKER),
))


class TrainingStatus(enum.Enum):
    """Where a training stands now (derived from its days and `cancelledAt`)."""

    SCHEDULED = "scheduled"  # before its first day: takes enrollments
    RUNNING = "running"  # from its first day to its last
    ENDED = "ended"  # after its last day
    CANCELLED = "cancelled"


def today() -> date:
    """Today in China Standard Time, the day trainings are dated in."""
    return datetime.now(CALENDAR).date()


def training_status(
    starts_on: date, ends_on: date, cancelled_at: datetime | None, on: date | None = None
) -> TrainingStatus:
    day = on or today()
    if cancelled_at is not None:
        return TrainingStatus.CANCELLED
    if ends_on < day:
        return TrainingStatus.ENDED
    if starts_on <= day:
        return TrainingStatus.RUNNING
    return TrainingStatus.SCHEDULED


def training_status_sql(row: FromClause) -> ColumnElement[Any]:
    day = cast(func.timezone(str(CALENDAR), func.now()), Date)
    return case(
        (row.c.cancelled_at.is_not(None), TrainingStatus.CANCELLED.value),
        (row.c.ends_on < day, TrainingStatus.ENDED.value),
        (row.c.starts_on <= day, TrainingStatus.RUNNING.value),
        else_=TrainingStatus.SCHEDULED.value,
    )


TRAINING_STATUS = Derived(
    lambda training, _viewer: training_status(
        training.starts_on, training.ends_on, training.cancelled_at
    ),
    lambda row, _viewer: training_status_sql(row),
)
TRAINING_SEATS_LEFT = Derived(
    lambda training, _viewer: max(training.capacity - training.seats_taken, 0),
    lambda row, _viewer: func.greatest(row.c.capacity - row.c.seats_taken, 0),
)
