"""Workers: identity (masked), regions, education, skills, intentions and their records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models.enums import EducationLevel, Gender
from resolvers.lists import ordering
from resolvers.relations import (
    WORKER_APPLICATIONS,
    WORKER_ENROLLMENTS,
    WORKER_INSURANCE_RECORDS,
    WORKER_JOB_INTENTIONS,
    WORKER_SKILLS,
)
from resolvers.workers import age_this_year, birth_date_for
from schema.connections import Connection, OrderDirection, PageArgs, related
from schema.context import Info
from schema.node import Node, load_node, load_required
from schema.reference import Occupation, Region, Skill

if TYPE_CHECKING:
    from schema.insurance import InsuranceRecord
    from schema.jobs import Application
    from schema.trainings import Enrollment

strawberry.enum(Gender)
strawberry.enum(EducationLevel, description="Highest completed education.")

APPLICATIONS_NEWEST = ordering(WORKER_APPLICATIONS.table, "submitted_at", descending=True)
ENROLLMENTS_NEWEST = ordering(WORKER_ENROLLMENTS.table, "enrolled_at", descending=True)
RECORDS_NEWEST = ordering(WORKER_INSURANCE_RECORDS.table, "period", descending=True)


@strawberry.type(description="A skill a worker has, with a level from 1 (basic) to 5.")
class WorkerSkill:
    skill_code: strawberry.Private[str]
    level: int

    @strawberry.field
    async def skill(self, info: Info) -> Skill:
        return await load_required(info, Skill, self.skill_code)


@strawberry.type(description="What kind of job, where, and for how much a worker is looking.")
class JobIntention(Node):
    occupation_code: strawberry.Private[str | None]
    region_code: strawberry.Private[str | None]
    expected_salary: Decimal | None = strawberry.field(description="Monthly, in CNY.")

    @strawberry.field
    async def occupation(self, info: Info) -> Occupation | None:
        code = self.occupation_code
        return None if code is None else await load_node(info, Occupation, code)

    @strawberry.field
    async def region(self, info: Info) -> Region | None:
        return None if self.region_code is None else await load_node(info, Region, self.region_code)


@strawberry.type(description="A migrant worker. Identity numbers and phones are masked.")
class Worker(Node):
    name: str
    gender: Gender = strawberry.field(description="From the ID number's 17th digit.")
    birth_date: strawberry.Private[date]
    id_number_masked: str = strawberry.field(
        name="maskedIdNumber", description="First 6 and last 4 characters: 110105********002X."
    )
    phone_masked: str | None = strawberry.field(name="maskedPhone", description="138****5678.")
    hukou_region_code: strawberry.Private[str]
    current_region_code: strawberry.Private[str | None]
    education_level: EducationLevel
    new_employment_form: bool = strawberry.field(
        description="Works in a new employment form (platform delivery, ride-hailing...)."
    )
    created_at: datetime

    @strawberry.field(
        name="birthDate",
        description="The worker themself only; null for everyone else (with the masked ID "
        "number it would give the full number away). Others read birthYear and age.",
    )
    def own_birth_date(self, info: Info) -> date | None:
        return birth_date_for(info.context.viewer, self.pk, self.birth_date)

    @strawberry.field(description="From the ID number.")
    def birth_year(self) -> int:
        return self.birth_date.year

    @strawberry.field(
        description="The age reached this calendar year (Asia/Shanghai): this year minus "
        "birthYear, not the age today, which would give the birthday away."
    )
    def age(self) -> int:
        return age_this_year(self.birth_date)

    @strawberry.field(description="Where the worker's household registration (户籍) is.")
    async def hukou_region(self, info: Info) -> Region:
        return await load_required(info, Region, self.hukou_region_code)

    @strawberry.field(description="Where the worker lives and works now.")
    async def current_region(self, info: Info) -> Region | None:
        code = self.current_region_code
        return None if code is None else await load_node(info, Region, code)

    @strawberry.field
    async def skills(self, info: Info) -> list[WorkerSkill]:
        rows = await info.context.loaders.rows_by_parent(WORKER_SKILLS).load(self.pk)
        return [WorkerSkill(skill_code=row["skill_code"], level=row["level"]) for row in rows]

    @strawberry.field
    async def job_intentions(self, info: Info) -> list[JobIntention]:
        rows = await info.context.loaders.rows_by_parent(WORKER_JOB_INTENTIONS).load(self.pk)
        return [JobIntention.from_row(row) for row in rows]

    @strawberry.field(description="Applications the worker made, newest first.")
    async def applications(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Application, strawberry.lazy("schema.jobs")]]:
        from schema.jobs import Application

        page = PageArgs(first, after, last, before)
        return await related(info, Application, WORKER_APPLICATIONS, self.pk,
                             APPLICATIONS_NEWEST, page)

    @strawberry.field(description="Trainings the worker enrolled in, newest first.")
    async def enrollments(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Enrollment, strawberry.lazy("schema.trainings")]]:
        from schema.trainings import Enrollment

        page = PageArgs(first, after, last, before)
        return await related(info, Enrollment, WORKER_ENROLLMENTS, self.pk,
                             ENROLLMENTS_NEWEST, page)

    @strawberry.field(description="Monthly social-insurance contributions, newest month first.")
    async def insurance_records(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[InsuranceRecord, strawberry.lazy("schema.insurance")]]:
        from schema.insurance import InsuranceRecord

        page = PageArgs(first, after, last, before)
        return await related(info, InsuranceRecord, WORKER_INSURANCE_RECORDS, self.pk,
                             RECORDS_NEWEST, page)


@strawberry.input(description="Narrows the worker list; all given conditions must hold.")
class WorkerFilter:
    region_code: str | None = strawberry.field(
        default=None, description="Current region, or any division under it."
    )
    hukou_region_code: str | None = None
    keyword: str | None = strawberry.field(default=None, description="Part of the name.")
    gender: Gender | None = None
    education_level: EducationLevel | None = None
    new_employment_form: bool | None = None


@strawberry.enum
class WorkerOrderField(Enum):
    CREATED_AT = "created_at"
    NAME = "name"


@strawberry.input
class WorkerOrder:
    field: WorkerOrderField = WorkerOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC

