"""Applying to jobs and deciding applications: `applyToJob`, `withdrawApplication`,
`reviewApplication`, declared writes.

A worker applies for themself (staff of their division and admins on their behalf), once per
job (a unique key: raced applications make one), to a job that is published now, not hidden by
reports and not full. The worker withdraws; the job's employer, staff of its division and
admins review. The moves an application makes:

    SUBMITTED -> SHORTLISTED -> HIRED
    SUBMITTED, SHORTLISTED -> REJECTED, WITHDRAWN

and nothing else (INVALID_TRANSITION). HIRE makes the worker's placement in the job and fills
one of its openings; the last one closes the job. The job's row is locked (FOR UPDATE) by a
hire from its reading to the commit, so of two hires for its last opening one wins and the
other is JOB_FULL. Applications and placements are personal data: each write is audited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.engine import RowMapping

from db.models.enums import ApplicationStatus, JobStatus
from resolvers.access import Role, Viewer
from resolvers.events import Event, EventType, notify
from resolvers.filters import MAX_AMOUNT, is_amount
from resolvers.global_ids import GlobalId
from resolvers.job_lifecycle import HIDING_REPORTS, JOBS, current_status
from resolvers.jobs import APPLICATION, APPLICATIONS, JOB, PLACEMENTS
from resolvers.pagination import readable_columns
from resolvers.workers import CALENDAR, WORKER
from resolvers.writes import (
    Outcome,
    Problem,
    Tx,
    Unchanged,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    seen_row,
    versioned_outcome,
)


class ApplicationErrorCode(enum.Enum):
    """Why an application write changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"
    DUPLICATE = "duplicate"  # the worker applied to this job already
    INVALID_TRANSITION = "invalid_transition"  # not from the application's current status
    JOB_NOT_OPEN = "job_not_open"  # a draft, closed, expired or reported job
    JOB_FULL = "job_full"  # every opening is filled


class ApplicationDecision(enum.Enum):
    """What the employer (or staff) decide about an application."""

    SHORTLIST = "shortlist"
    REJECT = "reject"
    HIRE = "hire"


AppProblem = Problem[ApplicationErrorCode]
AppOutcome = Outcome[RowMapping, ApplicationErrorCode]
Code = ApplicationErrorCode

APPLYING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.ADMIN})
WITHDRAWING_ROLES = frozenset({Role.WORKER, Role.ADMIN})
REVIEWING_ROLES = frozenset({Role.EMPLOYER, Role.STAFF, Role.ADMIN})
LIVE = {ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED}
MOVES = {  # decision -> (the statuses it moves from, the status it moves to)
    ApplicationDecision.SHORTLIST: ({ApplicationStatus.SUBMITTED}, ApplicationStatus.SHORTLISTED),
    ApplicationDecision.REJECT: (LIVE, ApplicationStatus.REJECTED),
    ApplicationDecision.HIRE: ({ApplicationStatus.SHORTLISTED}, ApplicationStatus.HIRED),
}
AUDITED = ("status",)
NO_SUCH_APPLICATION = Problem(("applicationId",), Code.NOT_FOUND, "No such application.")
VERSION_DOC = "The application's version as read; another version is STALE_VERSION."


@dataclass(frozen=True, kw_only=True)
class NewApplication:
    """A worker's application to a job."""

    worker_id: GlobalId = described("The worker applying (a worker: themself).")
    job_id: GlobalId


@dataclass(frozen=True, kw_only=True)
class Withdrawal:
    """Which application its worker withdraws, at the version read."""

    application_id: GlobalId
    version: int = described(VERSION_DOC)


@dataclass(frozen=True, kw_only=True)
class Review:
    """A decision on an application, at the version read; a hire's placement details."""

    application_id: GlobalId
    decision: ApplicationDecision
    version: int = described(VERSION_DOC)
    started_on: date | None = described(
        "HIRE: the first day in the job; today (China Standard Time) by default.", default=None
    )
    monthly_wage: Decimal | None = described("HIRE: the agreed monthly wage, CNY.", default=None)


def _key(value: str, type_name: str, field: str) -> int | AppProblem:
    return decoded_key(value, type_name, field, Code.INVALID)


def _keys(**given: tuple[str, str]) -> list[AppProblem]:
    """The problems of the global IDs `given` (field -> (value, type name))."""
    found = (_key(value, type_name, field) for field, (value, type_name) in given.items())
    return [key for key in found if isinstance(key, Problem)]


def _not_allowed(message: str, *field: str) -> AppProblem:
    return Problem(tuple(field), Code.NOT_ALLOWED, message)


def _applying_problems(viewer: Viewer, new: NewApplication) -> list[AppProblem]:
    problems = _keys(workerId=(new.worker_id, "Worker"), jobId=(new.job_id, "Job"))
    if problems:
        return problems
    own = _key(new.worker_id, "Worker", "workerId") == viewer.worker_id
    if viewer.role is Role.WORKER and not own:
        return [_not_allowed("Workers apply only for themselves.", "workerId")]
    return []


def _job_closed_problem(job: RowMapping) -> AppProblem | None:
    """JOB_FULL or JOB_NOT_OPEN when the job takes no more hires (nor applications)."""
    if job["openings_filled"] >= job["headcount"]:
        return Problem(("jobId",), Code.JOB_FULL, "Every opening of this job is filled.")
    status = current_status(job["status"], job["valid_through"])
    if status is not JobStatus.PUBLISHED:
        return Problem(("jobId",), Code.JOB_NOT_OPEN, f"The job is {status.name}.")
    return None


async def _apply(tx: Tx, new: NewApplication) -> AppOutcome:
    worker_id = _key(new.worker_id, "Worker", "workerId")
    job_id = _key(new.job_id, "Job", "jobId")
    if await seen_row(tx.connection, WORKER, worker_id, tx.viewer) is None:
        return failed(Problem(("workerId",), Code.NOT_FOUND, "No such worker."))
    job = await seen_row(tx.connection, JOB, job_id, tx.viewer, share=True)
    if job is None:
        return failed(Problem(("jobId",), Code.NOT_FOUND, "No such job."))
    closed = _job_closed_problem(job)
    if closed is not None:
        return failed(closed)
    if job["open_reports"] >= HIDING_REPORTS:  # the row read holds what hides it
        return failed(Problem(("jobId",), Code.JOB_NOT_OPEN, "The job is under review."))
    made = await tx.connection.execute(
        upsert(APPLICATIONS)
        .values(worker_id=worker_id, job_id=job_id, status=ApplicationStatus.SUBMITTED)
        .on_conflict_do_nothing(index_elements=[APPLICATIONS.c.worker_id, APPLICATIONS.c.job_id])
        .returning(*readable_columns(APPLICATIONS))
    )
    application = made.mappings().first()
    if application is None:
        return failed(
            Problem(("jobId",), Code.DUPLICATE, "The worker applied to this job already.")
        )
    await notify(tx.connection, _event(EventType.APPLICATION_SUBMITTED, application, job))
    return done(application)


def _event(kind: EventType, application: RowMapping, job: RowMapping) -> Event:
    """An event about `application` to `job` (ids only)."""
    return Event(
        kind, application["id"], job_id=job["id"], employer_id=job["employer_id"],
        worker_id=application["worker_id"], regions=(job["region_code"],),
    )


async def _status_changed(tx: Tx, outcome: AppOutcome) -> AppOutcome:
    """`outcome`, its application's status change sent as an event when there is one."""
    if outcome.row is not None:
        application = outcome.row
        job = (
            await tx.connection.execute(
                select(JOBS.c.id, JOBS.c.employer_id, JOBS.c.region_code)
                .where(JOBS.c.id == application["job_id"])
            )
        ).mappings().one()
        await notify(tx.connection, _event(EventType.APPLICATION_STATUS_CHANGED, application, job))
    return outcome


APPLY_TO_JOB = declare_write(Write(
    "applyToJob", "Apply to a job published now (the worker; staff of their division and "
    "admins on their behalf); once per worker and job.",
    NewApplication, APPLICATION, ApplicationErrorCode, _apply, _applying_problems,
    APPLYING_ROLES, "Workers apply, or staff on their behalf.", idempotent=True, audited=AUDITED,
))


def _moving_problem(
    application: RowMapping, allowed: set[ApplicationStatus], to: str
) -> AppProblem | None:
    status = application["status"]
    if status in allowed:
        return None
    return Problem(
        ("applicationId",), Code.INVALID_TRANSITION,
        f"The application is {status.name}; only a "
        f"{' or '.join(sorted(s.name for s in allowed))} one is {to}.",
    )


async def _change(
    tx: Tx, application: RowMapping, version: int, status: ApplicationStatus
) -> AppOutcome:
    return await tx.change(
        APPLICATION, application["id"], version, {"status": status},
        NO_SUCH_APPLICATION, Code.STALE_VERSION,
    )


def _withdrawal_problems(viewer: Viewer, withdrawal: Withdrawal) -> list[AppProblem]:
    return _keys(applicationId=(withdrawal.application_id, "Application"))


async def _withdraw(tx: Tx, withdrawal: Withdrawal) -> AppOutcome:
    key = _key(withdrawal.application_id, "Application", "applicationId")
    application = await seen_row(tx.connection, APPLICATION, key, tx.viewer, lock=True)
    if application is None:
        return failed(NO_SUCH_APPLICATION)
    refused = _moving_problem(application, LIVE, "withdrawn")
    if refused is not None:
        return failed(refused)
    withdrawn = await _change(tx, application, withdrawal.version, ApplicationStatus.WITHDRAWN)
    return await _status_changed(tx, withdrawn)


WITHDRAW_APPLICATION = declare_write(Write(
    "withdrawApplication", "Withdraw a submitted or shortlisted application (its worker).",
    Withdrawal, APPLICATION, ApplicationErrorCode, _withdraw, _withdrawal_problems,
    WITHDRAWING_ROLES, "Only the worker withdraws an application.", audited=AUDITED,
))


def _review_problems(viewer: Viewer, review: Review) -> list[AppProblem]:
    problems = _keys(applicationId=(review.application_id, "Application"))
    if review.monthly_wage is not None and not (
        is_amount(review.monthly_wage)
        and review.monthly_wage == review.monthly_wage.quantize(Decimal("0.01"))
    ):
        problems.append(Problem(
            ("monthlyWage",), Code.INVALID, f"An amount from 0 to {MAX_AMOUNT}, in fen at most."
        ))
    placing = review.started_on is not None or review.monthly_wage is not None
    if review.decision is not ApplicationDecision.HIRE and placing:
        field = "startedOn" if review.started_on is not None else "monthlyWage"
        problems.append(Problem((field,), Code.INVALID, "Only a HIRE makes a placement."))
    return problems


async def _review(tx: Tx, review: Review) -> AppOutcome:
    key = _key(review.application_id, "Application", "applicationId")
    found = await seen_row(tx.connection, APPLICATION, key, tx.viewer)
    if found is None:
        return failed(NO_SUCH_APPLICATION)
    # The job first, then the application: every write that locks both locks them so.
    job = (
        await tx.connection.execute(
            select(*readable_columns(JOBS)).where(JOBS.c.id == found["job_id"]).with_for_update()
        )
    ).mappings().one()
    application = await seen_row(tx.connection, APPLICATION, key, tx.viewer, lock=True)
    if application is None:
        return failed(NO_SUCH_APPLICATION)
    if application["version"] != review.version:
        return versioned_outcome(
            Unchanged.STALE, NO_SUCH_APPLICATION, Code.STALE_VERSION, review.version,
            "application",
        )
    allowed, status = MOVES[review.decision]
    refused = _moving_problem(application, allowed, status.name.lower())
    if refused is not None:
        return failed(refused)
    if review.decision is ApplicationDecision.HIRE:
        full = _hiring_problem(job)
        if full is not None:
            return failed(full)
    outcome = await _change(tx, application, review.version, status)
    if outcome.row is not None and review.decision is ApplicationDecision.HIRE:
        await _place(tx, application, job, review)
    return await _status_changed(tx, outcome)


def _hiring_problem(job: RowMapping) -> AppProblem | None:
    """A hire needs an opening, in a job that was not closed (an expired one still hires)."""
    if job["openings_filled"] >= job["headcount"]:
        return Problem(("applicationId",), Code.JOB_FULL, "Every opening of the job is filled.")
    if job["status"] in (JobStatus.CLOSED, JobStatus.DRAFT):
        return Problem(
            ("applicationId",), Code.JOB_NOT_OPEN, f"The job is {job['status'].name}."
        )
    return None


async def _place(tx: Tx, application: RowMapping, job: RowMapping, review: Review) -> None:
    """The hired worker's placement, one opening filled, the job closed at the last one."""
    started_on = review.started_on or datetime.now(CALENDAR).date()
    placed = await tx.connection.execute(
        insert(PLACEMENTS)
        .values(
            worker_id=application["worker_id"], job_id=job["id"],
            application_id=application["id"], started_on=started_on,
            monthly_wage=review.monthly_wage,
        )
        .returning(PLACEMENTS.c.id)
    )
    tx.also_wrote("Placement", placed.scalar_one())
    filled = JOBS.c.openings_filled + 1
    await tx.connection.execute(
        update(JOBS)
        .where(JOBS.c.id == job["id"])
        .values(
            openings_filled=filled, version=JOBS.c.version + 1,
            status=case(
                (filled >= JOBS.c.headcount, JobStatus.CLOSED.value), else_=JOBS.c.status
            ),
        )
    )


REVIEW_APPLICATION = declare_write(Write(
    "reviewApplication", "Shortlist, reject or hire an applicant (the job's employer, staff of "
    "its division, admins). HIRE makes the placement and fills an opening; the last one closes "
    "the job.",
    Review, APPLICATION, ApplicationErrorCode, _review, _review_problems,
    REVIEWING_ROLES, "The job's employer or staff review applications.", audited=AUDITED,
))

