"""Posting jobs: `createJob` with typed user errors and idempotent retries."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.job_writes import NewJob, create_job
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.jobs import Job


@strawberry.enum(description="Why a job write changed nothing.")
class JobErrorCode(Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


@strawberry.type
class JobError(UserError):
    code: JobErrorCode


@strawberry.input(description="A new job posting; codes stay codes, IDs are global IDs.")
class CreateJobInput:
    employer_id: strawberry.ID
    title: str
    description: str = ""
    occupation_code: str | None = None
    industry_code: str | None = None
    region_code: str = strawberry.field(description="A current 6-digit division code.")
    salary_min: Decimal
    salary_max: Decimal
    salary_unit: SalaryUnit
    headcount: int
    employment_type: EmploymentType
    lodging: bool = False
    board: bool = False
    status: JobStatus = strawberry.field(
        default=JobStatus.DRAFT, description="DRAFT or PUBLISHED."
    )
    posted_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")
    valid_through: datetime | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key returns the job the first call created.",
    )


@strawberry.type
class CreateJobPayload:
    job: Job | None
    user_errors: list[JobError]


@strawberry.type
class JobMutations:
    @strawberry.mutation(description="Post a job (employers for themselves, staff in region).")
    async def create_job(self, info: Info, input: CreateJobInput) -> CreateJobPayload:
        # The input's fields are the new job's fields (IDs and codes as given).
        values = {f.name: getattr(input, f.name) for f in dataclasses.fields(NewJob)}
        new = NewJob(**{**values, "employer_id": str(input.employer_id)})
        outcome = await create_job(
            info.context.database.engine, info.context.viewer, new, input.idempotency_key
        )
        job = None if outcome.job is None else Job.from_row(outcome.job)
        return CreateJobPayload(
            job=job, user_errors=user_errors(JobError, JobErrorCode, outcome.problems)
        )
