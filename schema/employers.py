"""Employers and what hangs off them: their job postings and the trainings they partner in."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.models.enums import EmployerSize
from resolvers.employers import (
    EMPLOYER,
    EMPLOYER_INDUSTRY,
    EMPLOYER_JOBS,
    EMPLOYER_REGION,
    EMPLOYER_TRAININGS,
)
from schema.fields import listed, paged, to_one
from schema.node import Node

strawberry.enum(EmployerSize)


@strawberry.type(description="An employer, identified by its unified social credit code.")
class Employer(Node):
    name: str
    credit_code: str = strawberry.field(description="Unified social credit code (GB 32100).")
    industry_code: strawberry.Private[str]
    region_code: strawberry.Private[str]
    size: EmployerSize
    is_platform: bool = strawberry.field(
        description="A platform of new employment forms (delivery, ride-hailing) paying per order."
    )
    verified_at: datetime | None = strawberry.field(
        description="When staff last verified its registration; unset by a new name or region."
    )
    created_at: datetime
    version: int = strawberry.field(
        description="Increases with every change; pass it back to change the employer."
    )
    industry = to_one(EMPLOYER_INDUSTRY)
    region = to_one(EMPLOYER_REGION)
    jobs = paged(EMPLOYER_JOBS, "Job postings of this employer, newest first.")
    trainings = paged(
        EMPLOYER_TRAININGS, "Order-based and targeted trainings it partners in, latest start first."
    )


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


@strawberry.type
class EmployerQuery:
    employers = listed(EMPLOYER, EmployerFilter, "Employers, newest registration first by default.")
