"""Reports of job postings, declared.

Who sees a report: the one who made it (by their principal), staff of the job's division,
admins. Not the job's employer: a report may say enough to tell who wrote it, and staff are
the ones who act on it. Who reported is never a field; reports are not personal data of a
worker (they say something about a job, and no worker is named in a column).
"""

from __future__ import annotations

from sqlalchemy import false, or_, select

from resolvers.access import Role, Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Entity, ToOne
from resolvers.filters import equals_rule, node_rule
from resolvers.job_lifecycle import JOBS, REPORTS
from resolvers.viewer_parameters import in_staff_division, viewer_principal


def job_report_policy(viewer: Viewer) -> Condition:
    if viewer.role is Role.ANONYMOUS:
        return false()
    own = REPORTS.c.reporter == viewer_principal(viewer)
    if viewer.role is Role.STAFF and viewer.region_code:
        in_division = select(JOBS.c.id).where(in_staff_division(JOBS.c.region_code, viewer))
        return or_(own, REPORTS.c.job_id.in_(in_division))
    return own


REPORT_JOB = ToOne("Job", REPORTS.c.job_id)

JOB_REPORT = declare(Entity(
    "JobReport", REPORTS, job_report_policy, key=REPORTS.c.id,
    filters={
        "job_id": node_rule(REPORT_JOB),
        "status": equals_rule(REPORTS.c.status),
        "reason": equals_rule(REPORTS.c.reason),
    },
    orderings={"CREATED_AT": REPORTS.c.created_at},
    relations=(REPORT_JOB,),
))
