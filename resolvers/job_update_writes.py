"""Changing a job: `updateJob` (its fields), `publishJob` (a draft, or an expired job again)
and `reverifyJob` (the employer confirms an open posting still holds), declared writes.

Each is for the job's employer, staff of its division and admins, at the version the client
read, with the checks `createJob` makes of the fields it changes (resolvers.job_writes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func

from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.access import Viewer
from resolvers.global_ids import GlobalId, encode_global_id
from resolvers.job_writes import (
    CREATABLE_STATUSES,
    MANAGING_REFUSAL,
    MANAGING_ROLES,
    JobErrorCode,
    JobOutcome,
    JobProblem,
    NewJob,
    change_job,
    duplicate_posting_problem,
    job_key_problems,
    managed_job,
    missing_codes,
    posting_field_problems,
    posting_permission_problem,
    transition_problem,
)
from resolvers.jobs import JOB
from resolvers.writes import Problem, Tx, Write, declare_write, described, failed

VERSION_DOC = "The job's version as read; another version is STALE_VERSION."
FUTURE_DOC = "A new end of the posting's validity, in the future."


@dataclass(frozen=True, kw_only=True)
class JobChanges:
    """What to change of a job (a field not given stays as it is), at the version read."""

    job_id: GlobalId
    version: int = described(VERSION_DOC)
    title: str | None = None
    description: str | None = None
    occupation_code: str | None = None
    industry_code: str | None = None
    region_code: str | None = described("A current 6-digit division code.", default=None)
    salary_min: Decimal | None = None
    salary_max: Decimal | None = None
    salary_unit: SalaryUnit | None = None
    headcount: int | None = described(
        "At least one more than the openings already filled.", default=None
    )
    employment_type: EmploymentType | None = None
    lodging: bool | None = None
    board: bool | None = None
    valid_through: datetime | None = described(FUTURE_DOC, default=None)


@dataclass(frozen=True, kw_only=True)
class JobPublishing:
    """Which job to publish: a draft, or an expired job with a new `validThrough`."""

    job_id: GlobalId
    version: int = described(VERSION_DOC)
    valid_through: datetime | None = described(
        "Required when the current one has passed; in the future.", default=None
    )


@dataclass(frozen=True, kw_only=True)
class JobReverifying:
    """Which published job its employer (or staff) confirms is still as posted."""

    job_id: GlobalId
    version: int = described(VERSION_DOC)
    valid_through: datetime | None = described(FUTURE_DOC, default=None)


def _future_problem(valid_through: datetime | None) -> JobProblem | None:
    if valid_through is not None and valid_through <= datetime.now(UTC):
        return Problem(("validThrough",), JobErrorCode.INVALID, "Must be in the future.")
    return None


_CHANGEABLE = [
    f.name for f in dataclasses.fields(JobChanges) if f.name not in ("job_id", "version")
]


def _given(changes: JobChanges) -> dict[str, Any]:
    values = {name: getattr(changes, name) for name in _CHANGEABLE}
    return {name: value for name, value in values.items() if value is not None}


def _update_checks(viewer: Viewer, changes: JobChanges) -> list[JobProblem]:
    problems = _validity_checks(viewer, changes)
    if not problems and not _given(changes):
        problems.append(Problem((), JobErrorCode.INVALID, "Give at least one field to change."))
    return problems


async def _update(tx: Tx, changes: JobChanges) -> JobOutcome:
    job = await managed_job(tx, changes.job_id)
    if isinstance(job, Problem):
        return failed(job)
    refused = transition_problem(job, CREATABLE_STATUSES, "changes")
    if refused is not None:
        return failed(refused)
    given = _given(changes)
    merged = NewJob(
        **{name: job[name] for name in _CHANGEABLE},
        employer_id=GlobalId(encode_global_id("Employer", job["employer_id"])),
        status=job["status"], posted_at=job["posted_at"],
    )
    merged = dataclasses.replace(merged, **given)
    problems = posting_field_problems(merged, job["posted_at"])
    if "headcount" in given and given["headcount"] <= job["openings_filled"] and problems == []:
        problems.append(Problem(
            ("headcount",), JobErrorCode.INVALID,
            f"{job['openings_filled']} openings are filled; leave at least one open, or close "
            "the job.",
        ))
    if "region_code" in given and not problems:
        denied = posting_permission_problem(tx.viewer, job["employer_id"], merged.region_code)
        problems += [denied] if denied else []
    if problems:
        return failed(*problems)
    missing = await missing_codes(
        tx.connection, given.get("region_code"), given.get("occupation_code"),
        given.get("industry_code"),
    )
    if missing:
        return failed(*missing)
    if {"title", "region_code"} & set(given):
        duplicate = await duplicate_posting_problem(
            tx.connection, job["employer_id"], merged.title, merged.region_code, job["id"]
        )
        if duplicate is not None:
            return failed(duplicate)
    if "title" in given:
        given["title"] = merged.title.strip()
    return await change_job(tx, job, changes.version, given)


UPDATE_JOB = declare_write(Write(
    "updateJob", "Change a draft or published job's fields (its employer, staff of its "
    "division, admins).",
    JobChanges, JOB, JobErrorCode, _update, _update_checks, MANAGING_ROLES, MANAGING_REFUSAL,
))


def _validity_checks(viewer: Viewer, request: Any) -> list[JobProblem]:
    """The checks of a write to a job that may give a new `validThrough`."""
    future = _future_problem(request.valid_through)
    return job_key_problems(viewer, request) + ([future] if future else [])


async def _publish(tx: Tx, publishing: JobPublishing) -> JobOutcome:
    job = await managed_job(tx, publishing.job_id)
    if isinstance(job, Problem):
        return failed(job)
    refused = transition_problem(job, {JobStatus.DRAFT, JobStatus.EXPIRED}, "is published")
    if refused is not None:
        return failed(refused)
    valid_through = publishing.valid_through or job["valid_through"]
    if _future_problem(valid_through) is not None:
        return failed(Problem(
            ("validThrough",), JobErrorCode.INVALID,
            "The job's validity has passed: give a new validThrough in the future.",
        ))
    if job["openings_filled"] >= job["headcount"]:
        return failed(
            Problem(("jobId",), JobErrorCode.INVALID_TRANSITION, "Every opening is filled.")
        )
    duplicate = await duplicate_posting_problem(
        tx.connection, job["employer_id"], job["title"], job["region_code"], job["id"]
    )
    if duplicate is not None:
        return failed(duplicate)
    return await change_job(tx, job, publishing.version, {
        "status": JobStatus.PUBLISHED, "posted_at": func.now(), "last_verified_at": func.now(),
        "valid_through": valid_through,
    })


PUBLISH_JOB = declare_write(Write(
    "publishJob", "Publish a draft, or an expired job again with a new validThrough (its "
    "employer, staff of its division, admins); it counts as posted now.",
    JobPublishing, JOB, JobErrorCode, _publish, _validity_checks,
    MANAGING_ROLES, MANAGING_REFUSAL,
))


async def _reverify(tx: Tx, reverifying: JobReverifying) -> JobOutcome:
    job = await managed_job(tx, reverifying.job_id)
    if isinstance(job, Problem):
        return failed(job)
    refused = transition_problem(job, {JobStatus.PUBLISHED}, "is reverified")
    if refused is not None:
        return failed(refused)
    values: dict[str, Any] = {"last_verified_at": func.now()}
    if reverifying.valid_through is not None:
        values["valid_through"] = reverifying.valid_through
    return await change_job(tx, job, reverifying.version, values)


REVERIFY_JOB = declare_write(Write(
    "reverifyJob", "Confirm a published job still holds, optionally until a later "
    "validThrough (its employer, staff of its division, admins); sets lastVerifiedAt.",
    JobReverifying, JOB, JobErrorCode, _reverify, _validity_checks,
    MANAGING_ROLES, MANAGING_REFUSAL,
))
