"""Employers and what hangs off them: their job postings and the trainings they partner in."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models.enums import EmployerSize
from resolvers.lists import ordering
from resolvers.relations import EMPLOYER_JOBS, EMPLOYER_TRAININGS
from schema.connections import Connection, OrderDirection, PageArgs, related
from schema.context import Info
from schema.node import Node, load_required
from schema.reference import Industry, Region

if TYPE_CHECKING:
    from schema.jobs import Job
    from schema.trainings import Training

strawberry.enum(EmployerSize)

JOBS_NEWEST = ordering(EMPLOYER_JOBS.table, "posted_at", descending=True)
TRAININGS_SOONEST = ordering(EMPLOYER_TRAININGS.table, "starts_on", descending=True)


@strawberry.type(description="An employer, identified by its unified social credit code.")
class Employer(Node):
    name: str
    credit_code: str = strawberry.field(description="Unified social credit code (GB 32100).")
    industry_code: strawberry.Private[str]
    region_code: strawberry.Private[str]
    size: EmployerSize
    verified_at: datetime | None
    created_at: datetime

    @strawberry.field
    async def industry(self, info: Info) -> Industry:
        return await load_required(info, Industry, self.industry_code)

    @strawberry.field
    async def region(self, info: Info) -> Region:
        return await load_required(info, Region, self.region_code)

    @strawberry.field(description="Job postings of this employer, newest first.")
    async def jobs(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Job, strawberry.lazy("schema.jobs")]]:
        from schema.jobs import Job

        page = PageArgs(first, after, last, before)
        return await related(info, Job, EMPLOYER_JOBS, self.pk, JOBS_NEWEST, page)

    @strawberry.field(description="Order-based and targeted trainings it partners in.")
    async def trainings(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Training, strawberry.lazy("schema.trainings")]]:
        from schema.trainings import Training

        page = PageArgs(first, after, last, before)
        return await related(info, Training, EMPLOYER_TRAININGS, self.pk, TRAININGS_SOONEST, page)


@strawberry.input(description="Narrows the employer list; all given conditions must hold.")
class EmployerFilter:
    region_code: str | None = strawberry.field(
        default=None, description="A division code; matches everything under it."
    )
    industry_code: str | None = strawberry.field(
        default=None, description="A section (C) or division (C39); matches everything under it."
    )
    keyword: str | None = strawberry.field(default=None, description="Part of the name.")
    size: EmployerSize | None = None
    verified: bool | None = None


@strawberry.enum
class EmployerOrderField(Enum):
    CREATED_AT = "created_at"
    NAME = "name"


@strawberry.input
class EmployerOrder:
    field: EmployerOrderField = EmployerOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC
