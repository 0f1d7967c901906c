"""Skills trainings (three kinds, three modes with enterprises) and enrollments in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models.enums import EnrollmentStatus, TrainingKind, TrainingMode
from resolvers.lists import ordering
from resolvers.relations import TRAINING_ACTIVE_ENROLLMENTS, TRAINING_ENROLLMENTS
from schema.connections import Connection, OrderDirection, PageArgs, related
from schema.context import Info
from schema.node import Node, load_node, load_required
from schema.reference import Occupation, Region
from schema.worker_records import WorkerRecord

if TYPE_CHECKING:
    from schema.employers import Employer

strawberry.enum(TrainingKind, description="就业技能, 岗位技能提升 or 创业 training.")
strawberry.enum(TrainingMode, description="How an enterprise takes part: 订单式, 定向 or 项目制.")
strawberry.enum(EnrollmentStatus)

ENROLLMENTS_NEWEST = ordering(TRAINING_ENROLLMENTS.table, "enrolled_at", descending=True)


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

    @strawberry.field(description="The enterprise of an order-based or targeted training.")
    async def partner_employer(
        self, info: Info
    ) -> Annotated[Employer, strawberry.lazy("schema.employers")] | None:
        from schema.employers import Employer

        key = self.partner_employer_id
        return None if key is None else await load_node(info, Employer, key)

    @strawberry.field
    async def occupation(self, info: Info) -> Occupation | None:
        code = self.occupation_code
        return None if code is None else await load_node(info, Occupation, code)

    @strawberry.field
    async def region(self, info: Info) -> Region:
        return await load_required(info, Region, self.region_code)

    @strawberry.field(description="Enrollments that were not dropped.")
    async def enrolled_count(self, info: Info) -> int:
        return await info.context.loaders.count_by_parent(TRAINING_ACTIVE_ENROLLMENTS).load(self.pk)

    @strawberry.field(description="Enrollments in this training, newest first.")
    async def enrollments(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Enrollment]:
        page = PageArgs(first, after, last, before)
        return await related(info, Enrollment, TRAINING_ENROLLMENTS, self.pk,
                             ENROLLMENTS_NEWEST, page)


@strawberry.type(description="A worker's enrollment in a training.")
class Enrollment(Node, WorkerRecord):
    training_id: strawberry.Private[int]
    status: EnrollmentStatus
    certificate_number: str | None
    enrolled_at: datetime
    completed_at: datetime | None


    @strawberry.field(description="Null when the viewer may not see the training.")
    async def training(self, info: Info) -> Training | None:
        return await load_node(info, Training, self.training_id)


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


@strawberry.enum
class TrainingOrderField(Enum):
    STARTS_ON = "starts_on"
    CREATED_AT = "created_at"


@strawberry.input
class TrainingOrder:
    field: TrainingOrderField = TrainingOrderField.STARTS_ON
    direction: OrderDirection = OrderDirection.DESC
