"""Who sees which rows, as SQL conditions, so pages, counts and lookups always agree.

Every read of a table goes through `visible(viewer, table)`. A table without a policy here is
visible to admins only: new tables are protected until they say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, true

from db.models import (
    Application,
    Consent,
    Employer,
    Enrollment,
    Industry,
    InsuranceRecord,
    Job,
    JobIntention,
    Occupation,
    OccupationGroup,
    Region,
    Skill,
    Training,
    Worker,
    WorkerSkill,
)
from db.models.base import table_of
from db.models.enums import JobStatus
from resolvers.access import PartnerGrant, Role, Viewer
from resolvers.divisions import within_division

Condition = ColumnElement[bool]
Policy = Callable[[Viewer], Condition]

APPLICATIONS = table_of(Application)
CONSENTS = table_of(Consent)
ENROLLMENTS = table_of(Enrollment)
JOBS = table_of(Job)
RECORDS = table_of(InsuranceRecord)
TRAININGS = table_of(Training)
WORKERS = table_of(Worker)


def in_partner_regions(column: ColumnElement[str], grant: PartnerGrant) -> Condition:
    if not grant.regions:
        return false()
    return or_(*(within_division(column, code) for code in grant.regions))


def has_live_consent(worker_id: ColumnElement[int], purpose: str) -> Condition:
    return exists().where(
        CONSENTS.c.worker_id == worker_id,
        CONSENTS.c.purpose == purpose,
        CONSENTS.c.withdrawn_at.is_(None),
    )


def _public(_viewer: Viewer) -> Condition:
    return true()


def _jobs(viewer: Viewer) -> Condition:
    published = JOBS.c.status == JobStatus.PUBLISHED
    if viewer.role is Role.STAFF and viewer.region_code:
        return or_(published, within_division(JOBS.c.region_code, viewer.region_code))
    if viewer.role is Role.EMPLOYER:
        return or_(published, JOBS.c.employer_id == viewer.employer_id)
    if viewer.role is Role.WORKER:
        applied = select(APPLICATIONS.c.job_id).where(
            APPLICATIONS.c.worker_id == viewer.worker_id
        )
        return or_(published, JOBS.c.id.in_(applied))
    if viewer.partner is not None:
        return and_(published, in_partner_regions(JOBS.c.region_code, viewer.partner))
    return published


def _trainings(viewer: Viewer) -> Condition:
    if viewer.partner is not None:
        return in_partner_regions(TRAININGS.c.region_code, viewer.partner)
    return true()


def _workers(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return WORKERS.c.id == viewer.worker_id
    if viewer.role is Role.EMPLOYER:
        applicants = (
            select(APPLICATIONS.c.worker_id)
            .join(JOBS, JOBS.c.id == APPLICATIONS.c.job_id)
            .where(JOBS.c.employer_id == viewer.employer_id)
        )
        return WORKERS.c.id.in_(applicants)
    if viewer.role is Role.STAFF and viewer.region_code:
        return or_(
            within_division(WORKERS.c.current_region_code, viewer.region_code),
            within_division(WORKERS.c.hukou_region_code, viewer.region_code),
        )
    if viewer.partner is not None:
        return and_(
            in_partner_regions(WORKERS.c.current_region_code, viewer.partner),
            has_live_consent(WORKERS.c.id, viewer.partner.purpose),
        )
    return false()


def _applications(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return APPLICATIONS.c.worker_id == viewer.worker_id
    if viewer.role is Role.EMPLOYER:
        own_jobs = select(JOBS.c.id).where(JOBS.c.employer_id == viewer.employer_id)
        return APPLICATIONS.c.job_id.in_(own_jobs)
    if viewer.role is Role.STAFF and viewer.region_code:
        local = select(JOBS.c.id).where(within_division(JOBS.c.region_code, viewer.region_code))
        return APPLICATIONS.c.job_id.in_(local)
    if viewer.partner is not None:
        jobs = select(JOBS.c.id).where(in_partner_regions(JOBS.c.region_code, viewer.partner))
        return and_(
            APPLICATIONS.c.job_id.in_(jobs),
            has_live_consent(APPLICATIONS.c.worker_id, viewer.partner.purpose),
        )
    return false()


def _enrollments(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return ENROLLMENTS.c.worker_id == viewer.worker_id
    if viewer.role is Role.EMPLOYER:
        partnered = select(TRAININGS.c.id).where(
            TRAININGS.c.partner_employer_id == viewer.employer_id
        )
        return ENROLLMENTS.c.training_id.in_(partnered)
    if viewer.role is Role.STAFF and viewer.region_code:
        local = select(TRAININGS.c.id).where(
            within_division(TRAININGS.c.region_code, viewer.region_code)
        )
        return ENROLLMENTS.c.training_id.in_(local)
    if viewer.partner is not None:
        trainings = select(TRAININGS.c.id).where(
            in_partner_regions(TRAININGS.c.region_code, viewer.partner)
        )
        return and_(
            ENROLLMENTS.c.training_id.in_(trainings),
            has_live_consent(ENROLLMENTS.c.worker_id, viewer.partner.purpose),
        )
    return false()


def _insurance_records(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return RECORDS.c.worker_id == viewer.worker_id
    if viewer.role is Role.EMPLOYER:
        return RECORDS.c.employer_id == viewer.employer_id
    if viewer.role is Role.STAFF and viewer.region_code:
        return within_division(RECORDS.c.region_code, viewer.region_code)
    if viewer.partner is not None:
        return and_(
            in_partner_regions(RECORDS.c.region_code, viewer.partner),
            has_live_consent(RECORDS.c.worker_id, viewer.partner.purpose),
        )
    return false()


def _belongs_to_visible_worker(table: Table) -> Policy:
    """Rows that hang off a worker (skills, intentions) are visible with that worker."""

    def policy(viewer: Viewer) -> Condition:
        return table.c.worker_id.in_(select(WORKERS.c.id).where(_workers(viewer)))

    return policy


def _consents(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return CONSENTS.c.worker_id == viewer.worker_id
    if viewer.role is Role.STAFF:
        return _belongs_to_visible_worker(CONSENTS)(viewer)
    return false()


POLICIES: dict[str, Policy] = {
    table_of(Region).name: _public,
    table_of(OccupationGroup).name: _public,
    table_of(Occupation).name: _public,
    table_of(Industry).name: _public,
    table_of(Skill).name: _public,
    table_of(Employer).name: _public,  # registered organisations; no personal data
    JOBS.name: _jobs,
    TRAININGS.name: _trainings,
    WORKERS.name: _workers,
    table_of(WorkerSkill).name: _belongs_to_visible_worker(table_of(WorkerSkill)),
    table_of(JobIntention).name: _belongs_to_visible_worker(table_of(JobIntention)),
    APPLICATIONS.name: _applications,
    ENROLLMENTS.name: _enrollments,
    RECORDS.name: _insurance_records,
    CONSENTS.name: _consents,
}


def shows_every_row(table: Table) -> bool:
    """Whether every viewer sees every row of `table` (reference data, employers): only a
    relation to such a table can promise a non-null target."""
    return POLICIES.get(table.name) is _public


def visible(viewer: Viewer, table: Table) -> Condition:
    """The rows of `table` that `viewer` may see."""
    if viewer.role is Role.ADMIN:
        return true()
    policy = POLICIES.get(table.name)
    return false() if policy is None else policy(viewer)
