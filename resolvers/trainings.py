"""Skills trainings and the enrollments in them, declared."""

from __future__ import annotations

from sqlalchemy import true

from db.models import Enrollment, Training
from db.models.base import table_of
from db.models.enums import EnrollmentStatus
from resolvers.access import Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Entity, Range, ToMany, ToOne
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
