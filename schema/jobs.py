"""Job postings (schema.org JobPosting) and applications to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models.enums import ApplicationStatus, EmploymentType, JobStatus, SalaryUnit
from resolvers.lists import ordering
from resolvers.relations import JOB_APPLICATIONS
from schema.connections import Connection, OrderDirection, PageArgs, related
from schema.context import Info
from schema.node import Node, load_node, load_required
from schema.reference import Industry, Occupation, Region
from schema.worker_records import WorkerRecord

if TYPE_CHECKING:
    from schema.employers import Employer

strawberry.enum(JobStatus, description="Lifecycle of a posting.")
strawberry.enum(EmploymentType)
strawberry.enum(SalaryUnit, description="What the salary figures are per.")
strawberry.enum(ApplicationStatus)

APPLICATIONS_NEWEST = ordering(JOB_APPLICATIONS.table, "submitted_at", descending=True)


@strawberry.type(description="A job posting. Fields map 1:1 to schema.org JobPosting.")
class Job(Node):
    employer_id: strawberry.Private[int]
    title: str
    description: str
    occupation_code: strawberry.Private[str | None]
    industry_code: strawberry.Private[str | None]
    region_code: strawberry.Private[str]
    salary_min: Decimal = strawberry.field(description="In CNY per salaryUnit.")
    salary_max: Decimal = strawberry.field(description="In CNY per salaryUnit.")
    salary_unit: SalaryUnit
    headcount: int
    employment_type: EmploymentType
    lodging: bool = strawberry.field(description="Lodging (包住) is provided.")
    board: bool = strawberry.field(description="Meals (包吃) are provided.")
    status: JobStatus
    posted_at: datetime
    valid_through: datetime | None
    last_verified_at: datetime | None

    @strawberry.field
    async def employer(
        self, info: Info
    ) -> Annotated[Employer, strawberry.lazy("schema.employers")]:
        from schema.employers import Employer

        return await load_required(info, Employer, self.employer_id)

    @strawberry.field
    async def occupation(self, info: Info) -> Occupation | None:
        code = self.occupation_code
        return None if code is None else await load_node(info, Occupation, code)

    @strawberry.field
    async def industry(self, info: Info) -> Industry | None:
        code = self.industry_code
        return None if code is None else await load_node(info, Industry, code)

    @strawberry.field
    async def region(self, info: Info) -> Region:
        return await load_required(info, Region, self.region_code)

    @strawberry.field(description="Applications to this job, newest first.")
    async def applications(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Application]:
        page = PageArgs(first, after, last, before)
        return await related(info, Application, JOB_APPLICATIONS, self.pk,
                             APPLICATIONS_NEWEST, page)


@strawberry.type(description="A worker's application to a job.")
class Application(Node, WorkerRecord):
    job_id: strawberry.Private[int]
    status: ApplicationStatus
    submitted_at: datetime
    updated_at: datetime


    @strawberry.field(description="Null when the viewer may not see the job (e.g. expired).")
    async def job(self, info: Info) -> Job | None:
        return await load_node(info, Job, self.job_id)


@strawberry.input(description="Narrows the job list; all given conditions must hold.")
class JobFilter:
    region_code: str | None = strawberry.field(
        default=None, description="A division code; matches everything under it."
    )
    occupation_code: str | None = None
    industry_code: str | None = strawberry.field(
        default=None, description="A section (C) or division (C39); matches everything under it."
    )
    employer_id: strawberry.ID | None = None
    status: JobStatus | None = None
    employment_type: EmploymentType | None = None
    salary_unit: SalaryUnit | None = None
    salary_min: Decimal | None = strawberry.field(
        default=None, description="Jobs that can pay at least this much."
    )
    salary_max: Decimal | None = strawberry.field(
        default=None, description="Jobs whose pay starts at or below this."
    )
    posted_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    posted_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    keyword: str | None = strawberry.field(default=None, description="Part of the title.")


@strawberry.enum
class JobOrderField(Enum):
    POSTED_AT = "posted_at"
    SALARY_MAX = "salary_max"
    CREATED_AT = "created_at"


@strawberry.input
class JobOrder:
    field: JobOrderField = JobOrderField.POSTED_AT
    direction: OrderDirection = OrderDirection.DESC
