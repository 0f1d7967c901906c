"""Job postings (schema.org JobPosting), applications to them and placements in them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from db.models.enums import ApplicationStatus, EmploymentType, JobStatus, SalaryUnit
from resolvers.application_writes import ApplicationDecision
from resolvers.job_lifecycle import JOB_OPENINGS_LEFT, JOB_STATUS
from resolvers.jobs import (
    APPLICATION_JOB,
    APPLICATION_PLACEMENTS,
    APPLICATION_WORKER,
    JOB,
    JOB_APPLICATIONS,
    JOB_EMPLOYER,
    JOB_INDUSTRY,
    JOB_OCCUPATION,
    JOB_PLACEMENTS,
    JOB_REGION,
    PLACEMENT,
    PLACEMENT_APPLICATION,
    PLACEMENT_JOB,
    PLACEMENT_WORKER,
)
from schema.fields import derived, listed, paged, to_many, to_one
from schema.node import Node

strawberry.enum(
    JobStatus,
    description="Lifecycle of a posting. A published job reads as EXPIRED from its "
    "validThrough on.",
)
strawberry.enum(EmploymentType)
strawberry.enum(SalaryUnit, description="What the salary figures are per.")
strawberry.enum(ApplicationStatus)
strawberry.enum(ApplicationDecision, description=ApplicationDecision.__doc__)


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
    monthly_salary_min: Decimal | None = strawberry.field(
        description="salaryMin a month (a day's pay times 21.75, an hour's times 174); null "
        "for piece rates."
    )
    monthly_salary_max: Decimal | None = strawberry.field(
        description="salaryMax a month, figured as monthlySalaryMin is; null for piece rates."
    )
    headcount: int
    openings_filled: int = strawberry.field(
        description="Openings filled by hires through the hub; at headcount the job closes."
    )
    employment_type: EmploymentType
    lodging: bool = strawberry.field(description="Lodging (包住) is provided.")
    board: bool = strawberry.field(description="Meals (包吃) are provided.")
    status: strawberry.Private[JobStatus]  # as stored; `status` below is the current one
    posted_at: datetime
    valid_through: datetime | None
    last_verified_at: datetime | None
    version: int = strawberry.field(
        description="Increases with every change; pass it back to change the job."
    )
    current_status = derived(
        JOB_STATUS, JobStatus,
        "Now: EXPIRED from validThrough on, whatever was published.", name="status",
    )
    openings_left = derived(JOB_OPENINGS_LEFT, int, "headcount - openingsFilled.")
    employer = to_one(JOB_EMPLOYER)
    occupation = to_one(JOB_OCCUPATION)
    industry = to_one(JOB_INDUSTRY)
    region = to_one(JOB_REGION)
    applications = paged(JOB_APPLICATIONS, "Applications to this job, newest first.")
    placements = paged(JOB_PLACEMENTS, "Workers placed in this job, latest start first.")


@strawberry.type(description="A worker's application to a job.")
class Application(Node):
    worker_id: strawberry.Private[int]
    job_id: strawberry.Private[int]
    status: ApplicationStatus
    submitted_at: datetime
    updated_at: datetime
    version: int = strawberry.field(
        description="Increases with every change; pass it back to change the application."
    )
    worker = to_one(APPLICATION_WORKER, "Null when the viewer may not see this worker.")
    job = to_one(APPLICATION_JOB, "Null when the viewer may not see the job (e.g. expired).")
    placements = to_many(
        APPLICATION_PLACEMENTS, "The placement its HIRE made (at most one), as the viewer sees it."
    )


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
    status: JobStatus | None = strawberry.field(
        default=None,
        description="The current status: PUBLISHED leaves out the expired, EXPIRED takes them in.",
    )
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
    keyword: str | None = strawberry.field(
        default=None,
        description="Part of the title, the description, the employer's name or the "
        "occupation's name (any letters' case; one character or more, e.g. 普工).",
    )
    lodging: bool | None = strawberry.field(
        default=None, description="true: lodging (包住) provided; false: not."
    )
    board: bool | None = strawberry.field(
        default=None, description="true: meals (包吃) provided; false: not."
    )
    valid_at: datetime | None = strawberry.field(
        default=None, description="Jobs posted by then and not past their validThrough."
    )
    employer_verified: bool | None = strawberry.field(
        default=None, description="true: the employer was verified by staff; false: not yet."
    )
    monthly_salary_min: Decimal | None = strawberry.field(
        default=None,
        description="Jobs that can pay at least this a month, whatever their unit (piece "
        "rates, with no monthly figure, never match).",
    )
    monthly_salary_max: Decimal | None = strawberry.field(
        default=None, description="Jobs whose monthly pay starts at or below this."
    )


@strawberry.type(description="A worker placed in a job (就业安置), from an application or not.")
class Placement(Node):
    worker_id: strawberry.Private[int]
    job_id: strawberry.Private[int]
    application_id: strawberry.Private[int | None]
    started_on: date
    ended_on: date | None = strawberry.field(description="Null while the worker is in the job.")
    monthly_wage: Decimal | None = strawberry.field(description="In CNY, where agreed monthly.")
    created_at: datetime
    worker = to_one(PLACEMENT_WORKER, "Null when the viewer may not see this worker.")
    job = to_one(PLACEMENT_JOB, "Null when the viewer may not see the job.")
    application = to_one(
        PLACEMENT_APPLICATION, "The application it came from; null when there was none."
    )


@strawberry.input(description="Narrows the placement list; all given conditions must hold.")
class PlacementFilter:
    worker_id: strawberry.ID | None = None
    job_id: strawberry.ID | None = None
    started_after: date | None = strawberry.field(default=None, description="Inclusive.")
    started_before: date | None = strawberry.field(default=None, description="Exclusive.")
    ended: bool | None = strawberry.field(
        default=None, description="true: placements that ended; false: workers still in the job."
    )


@strawberry.type
class JobQuery:
    jobs = listed(JOB, JobFilter, "Job postings, most recently posted first by default.")
    placements = listed(
        PLACEMENT, PlacementFilter, "Placements of workers in jobs, latest start first by default."
    )
