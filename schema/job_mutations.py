"""Writing jobs: `createJob` and `closeJob`, with typed user errors and idempotent retries."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import strawberry

from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.job_writes import JobClosing, JobErrorCode, JobOutcome, NewJob, close_job, create_job
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.jobs import Job

strawberry.enum(JobErrorCode, description="Why a job write changed nothing.")


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


@strawberry.input(description="Which job to close, at the version the client read.")
class CloseJobInput:
    job_id: strawberry.ID
    version: int = strawberry.field(
        description="The job's version as read; another version is STALE_VERSION."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key returns the job the first call closed.",
    )


@strawberry.type
class CloseJobPayload:
    job: Job | None
    user_errors: list[JobError]


def _payload_parts(outcome: JobOutcome) -> tuple[Job | None, list[JobError]]:
    job = None if outcome.row is None else Job.from_row(outcome.row)
    return job, user_errors(JobError, outcome.problems)


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
        job, errors = _payload_parts(outcome)
        return CreateJobPayload(job=job, user_errors=errors)

    @strawberry.mutation(description="Close a job (its employer, staff of its division, admins).")
    async def close_job(self, info: Info, input: CloseJobInput) -> CloseJobPayload:
        closing = JobClosing(job_id=str(input.job_id), version=input.version)
        outcome = await close_job(
            info.context.database.engine, info.context.viewer, closing, input.idempotency_key
        )
        job, errors = _payload_parts(outcome)
        return CloseJobPayload(job=job, user_errors=errors)
