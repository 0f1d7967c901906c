"""Skills trainings (three kinds, three modes with enterprises) and enrollments in them."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from db.models.enums import EnrollmentStatus, TrainingKind, TrainingMode
from resolvers.trainings import (
    ENROLLMENT_TRAINING,
    ENROLLMENT_WORKER,
    TRAINING,
    TRAINING_ACTIVE_ENROLLMENTS,
    TRAINING_ENROLLMENTS,
    TRAINING_OCCUPATION,
    TRAINING_PARTNER_EMPLOYER,
    TRAINING_REGION,
    TRAINING_SEATS_LEFT,
    TRAINING_STATUS,
    TrainingStatus,
)
from schema.fields import counted, derived, listed, paged, to_one
from schema.node import Node

strawberry.enum(TrainingKind, description="就业技能, 岗位技能提升 or 创业 training.")
strawberry.enum(TrainingMode, description="How an enterprise takes part: 订单式, 定向 or 项目制.")
strawberry.enum(EnrollmentStatus)
strawberry.enum(TrainingStatus, description=TrainingStatus.__doc__)


@strawberry.type(description="A skills training course.")
class Training(Node):
    title: str
    kind: TrainingKind
    mode: TrainingMode
    provider: str
    partner_employer_id: strawberry.Private[int | None]
    occupation_code: strawberry.Private[str | None]
    region_code: strawberry.Private[str]
    starts_on: date
    ends_on: date
    capacity: int
    subsidised: bool = strawberry.field(description="Eligible for a training subsidy.")
    version: int = strawberry.field(
        description="Increases with every change; pass it back to change the training."
    )
    cancelled_at: datetime | None = strawberry.field(
        description="When it was cancelled; null for a training that was not."
    )
    seats_taken: strawberry.Private[int]
    status = derived(
        TRAINING_STATUS, TrainingStatus,
        "Now: CANCELLED once cancelled, else by its days (China Standard Time).",
    )
    seats_left = derived(
        TRAINING_SEATS_LEFT, int, "capacity minus the enrollments that were not dropped."
    )
    partner_employer = to_one(
        TRAINING_PARTNER_EMPLOYER, "The enterprise of an order-based or targeted training."
    )
    occupation = to_one(TRAINING_OCCUPATION)
    region = to_one(TRAINING_REGION)
    enrolled_count = counted(TRAINING_ACTIVE_ENROLLMENTS, "Enrollments that were not dropped.")
    enrollments = paged(TRAINING_ENROLLMENTS, "Enrollments in this training, newest first.")


@strawberry.type(description="A worker's enrollment in a training.")
class Enrollment(Node):
    worker_id: strawberry.Private[int]
    training_id: strawberry.Private[int]
    status: EnrollmentStatus
    certificate_number: str | None
    enrolled_at: datetime
    completed_at: datetime | None
    version: int = strawberry.field(
        description="Increases with every change; pass it back to complete or drop it."
    )
    worker = to_one(ENROLLMENT_WORKER, "Null when the viewer may not see this worker.")
    training = to_one(ENROLLMENT_TRAINING, "Null when the viewer may not see the training.")


@strawberry.input(description="Narrows the training list; all given conditions must hold.")
class TrainingFilter:
    region_code: str | None = strawberry.field(
        default=None, description="A division code; matches everything under it."
    )
    occupation_code: str | None = None
    kind: TrainingKind | None = None
    mode: TrainingMode | None = None
    subsidised: bool | None = None
    from_: date | None = strawberry.field(
        default=None, name="from", description="Trainings still running on or after this day."
    )
    to: date | None = strawberry.field(
        default=None, description="Trainings starting on or before this day."
    )
    keyword: str | None = strawberry.field(default=None, description="Part of the title.")


@strawberry.type
class TrainingQuery:
    trainings = listed(TRAINING, TrainingFilter, "Trainings, latest start first by default.")
