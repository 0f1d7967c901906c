"""The viewers the visibility oracle is held to: every role, several of some.

Workers and employers are found in the seeded rows by their facts (the ones with the most
kinds of records); staff serve two provinces, two prefectures and two counties (same level,
other divisions: a plan compiled for one must not answer for the other); partners differ in
regions, consent, scopes, named types and field lists. What the seed lacks is made for the
module and removed after: consents (some withdrawn) to the partners' purposes, their keys,
reports of jobs (by the cast and by others: one job hidden by three open reports, one kept in
view by a dismissed third), two jobs past their validity (expired, though stored published),
and two audit events (which, append-only, stay).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from server.auth import create_api_key, revoke_api_key
from server.settings import Settings
from tests.conftest import bearer
from tests.visibility import GRAPHQL, PERSONAL_TYPES, Agreement, Viewer

STAFF = {
    "staff-province-44": "440000",
    "staff-province-41": "410000",
    "staff-prefecture-4114": "411400",
    "staff-prefecture-5101": "510100",
    "staff-county-411481": "411481",
    "staff-county-411421": "411421",
}
PARTNERS = (
    "partner-consented-a", "partner-consented-b", "partner-unconsented", "partner-named-types",
    "partner-field-list",
)
VIEWER_NAMES = (
    "anonymous", "worker-a", "worker-b", "employer-a", "employer-b", *STAFF, "admin", *PARTNERS,
)

# Workers, and employers, with the most kinds of records first.
KINDS_OF_WORKER_RECORDS = """SELECT w.id FROM workers w ORDER BY
  (SELECT count(DISTINCT kind) FROM (
     SELECT 'application' AS kind FROM applications x WHERE x.worker_id = w.id
     UNION ALL SELECT 'placement' FROM placements x WHERE x.worker_id = w.id
     UNION ALL SELECT 'enrollment' FROM enrollments x WHERE x.worker_id = w.id
     UNION ALL SELECT 'insurance' FROM insurance_records x WHERE x.worker_id = w.id
     UNION ALL SELECT 'intention' FROM job_intentions x WHERE x.worker_id = w.id
     UNION ALL SELECT 'skill' FROM worker_skills x WHERE x.worker_id = w.id
     UNION ALL SELECT 'survey' FROM skill_surveys x WHERE x.worker_id = w.id) kinds) DESC,
  w.id LIMIT 2"""
KINDS_OF_EMPLOYER_RECORDS = """SELECT e.id FROM employers e ORDER BY
  (SELECT count(DISTINCT kind) FROM (
     SELECT 'unpublished job' AS kind FROM jobs j
       WHERE j.employer_id = e.id AND j.status <> 'published'
     UNION ALL SELECT 'application' FROM applications a JOIN jobs j ON j.id = a.job_id
       WHERE j.employer_id = e.id
     UNION ALL SELECT 'placement' FROM placements p JOIN jobs j ON j.id = p.job_id
       WHERE j.employer_id = e.id
     UNION ALL SELECT 'enrollment' FROM enrollments n JOIN trainings t ON t.id = n.training_id
       WHERE t.partner_employer_id = e.id
     UNION ALL SELECT 'contribution' FROM insurance_records r WHERE r.employer_id = e.id
  ) kinds) DESC, e.id LIMIT 2"""

# Purpose A: live consents of two workers in three, withdrawn ones of some others; purpose B:
# live consents of every other worker, withdrawn ones of some others.
CONSENTS = """INSERT INTO consents (worker_id, purpose, version, withdrawn_at)
  SELECT id, :a, 'v1', CASE WHEN id % 3 = 0 THEN now() END FROM workers WHERE id % 6 <> 3
  UNION ALL
  SELECT id, :b, 'v2', CASE WHEN id % 2 = 1 THEN now() END FROM workers WHERE id % 4 <> 3"""
# The published jobs with the most applications: the first gets three open reports (hidden
# from the public view), the second two open and one dismissed (still in view); the next two
# pass their validity (expired). Then one open report by each of the cast's principals on
# the hidden job and on three others (which, reported by as many principals, are hidden too).
JOBS_TO_REPORT = """SELECT j.id FROM jobs j WHERE j.status = 'published'
  AND j.valid_through > now() + interval '1 day' AND j.posted_at < now() - interval '1 day'
  ORDER BY (SELECT count(*) FROM applications a WHERE a.job_id = j.id) DESC, j.id LIMIT 4"""
REPORTS = """WITH chosen(hidden, shown) AS (
    SELECT CAST(:hidden AS bigint), CAST(:shown AS bigint))
  INSERT INTO job_reports (job_id, reporter, reason, status)
  SELECT job_id, reporter, 'fake', status FROM chosen, LATERAL (VALUES
    (hidden, 'visibility-cast:1', 'open'), (hidden, 'visibility-cast:2', 'open'),
    (hidden, 'visibility-cast:3', 'open'), (shown, 'visibility-cast:1', 'open'),
    (shown, 'visibility-cast:2', 'open'), (shown, 'visibility-cast:3', 'dismissed')
  ) AS made(job_id, reporter, status)
  UNION ALL
  SELECT j.id, p.principal, 'wrong_info', 'open'
  FROM unnest(CAST(:principals AS text[])) AS p(principal)
  CROSS JOIN ((SELECT id FROM jobs WHERE id <> ALL(CAST(:chosen AS bigint[]))
               ORDER BY id DESC LIMIT 3)
              UNION SELECT hidden FROM chosen) AS j
  RETURNING id"""
EXPIRE = """UPDATE jobs SET valid_through = now() - interval '1 hour' WHERE id = ANY(:ids)
  RETURNING id"""
RESTORE = "UPDATE jobs SET valid_through = now() + interval '30 days' WHERE id = ANY(:ids)"
KEY_IDS = "SELECT prefix, id FROM api_keys WHERE prefix = ANY(:prefixes)"

AUDIT_EVENTS = """INSERT INTO audit_events (actor, role, operation, record_ids, sensitive_fields)
  VALUES ('visibility-cast', 'partner', 'visibility-cast', '{}', '{}'),
         ('visibility-cast', 'partner', 'visibility-cast', '{}', '{Worker.name}')"""


@dataclass(frozen=True)
class Cast:
    viewers: dict[str, Viewer]
    headers: dict[str, dict[str, str]]


def partners(purpose_a: str, purpose_b: str, purpose_none: str) -> list[Viewer]:
    query = GRAPHQL.query_type
    assert query is not None
    every_root = frozenset(query.fields)
    consented_a = Agreement(every_root, ("440000", "110000"), purpose_a, PERSONAL_TYPES)
    named_types = frozenset({"Application", "Enrollment", "Worker"})
    fields = frozenset({
        "Worker.createdAt", "Worker.applications", "Worker.insuranceRecords", "Job.postedAt",
        "Job.applications", "Training.startsOn", "Placement.startedOn", "Placement.worker",
        "InsuranceRecord.period", "InsuranceRecord.worker", "Application.worker",
        "Application.job", "Employer.*",
    })
    agreements = [
        consented_a,
        Agreement(every_root, ("410000", "510100"), purpose_b, PERSONAL_TYPES),
        replace(consented_a, purpose=purpose_none),
        Agreement(
            frozenset({"jobs", "trainings", "node", "nodes"}), ("440000", "410000"), purpose_a,
            named_types,
        ),
        Agreement(every_root, ("510000",), purpose_b, frozenset({"Application"}), fields),
    ]
    return [
        Viewer(name, "partner", agreement=agreement)
        for name, agreement in zip(PARTNERS, agreements, strict=True)
    ]


@asynccontextmanager
async def casting(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Cast]:
    """The viewers with their credentials, the rows they need made for the block."""
    purposes = [f"visibility-{name}-{uuid.uuid4().hex[:12]}" for name in ("a", "b", "none")]
    async with engine.begin() as connection:
        workers = (await connection.execute(text(KINDS_OF_WORKER_RECORDS))).scalars().all()
        employers = (await connection.execute(text(KINDS_OF_EMPLOYER_RECORDS))).scalars().all()
        await connection.execute(text(CONSENTS), {"a": purposes[0], "b": purposes[1]})
        await connection.execute(text(AUDIT_EVENTS))
    viewers = [
        Viewer("anonymous", "anonymous"),
        *(Viewer(f"worker-{n}", "worker", worker_id=i) for n, i in zip("ab", workers, strict=True)),
        *(
            Viewer(f"employer-{n}", "employer", employer_id=i)
            for n, i in zip("ab", employers, strict=True)
        ),
        *(Viewer(name, "staff", division=code) for name, code in STAFF.items()),
        Viewer("admin", "admin"),
        *partners(*purposes),
    ]
    vault = PersonalDataVault(settings.master_key())
    keys: dict[str, str] = {}
    reports: list[int] = []
    expired: list[int] = []
    try:
        for viewer in viewers:
            if viewer.agreement is not None:
                keys[viewer.name] = await create_api_key(
                    engine, vault, partner=viewer.name, scopes=sorted(viewer.agreement.scopes),
                    regions=viewer.agreement.regions, purpose=viewer.agreement.purpose,
                    types=sorted(viewer.agreement.types),
                    fields=None if viewer.agreement.fields is None
                    else sorted(viewer.agreement.fields),
                )
        viewers = await _with_principals(engine, viewers, keys)
        async with engine.begin() as connection:
            chosen = (await connection.execute(text(JOBS_TO_REPORT))).scalars().all()
            hidden, shown, *to_expire = chosen
            principals = sorted({v.principal for v in viewers if v.principal is not None})
            reports = list((await connection.execute(text(REPORTS), {
                "hidden": hidden, "shown": shown, "principals": principals, "chosen": chosen,
            })).scalars())
            expired = list(
                (await connection.execute(text(EXPIRE), {"ids": to_expire})).scalars()
            )
        assert len(expired) == 2, "the seed has too few published jobs"
        yield Cast(
            {viewer.name: viewer for viewer in viewers},
            {viewer.name: _headers(settings, viewer, keys) for viewer in viewers},
        )
    finally:
        for key in keys.values():
            await revoke_api_key(engine, key[3:11])
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM job_reports WHERE id = ANY(:ids)"), {"ids": reports}
            )
            await connection.execute(text(RESTORE), {"ids": expired})
            await connection.execute(
                text("DELETE FROM consents WHERE purpose = ANY(:purposes)"), {"purposes": purposes}
            )


async def _with_principals(
    engine: AsyncEngine, viewers: list[Viewer], keys: dict[str, str]
) -> list[Viewer]:
    """The viewers with the principal their credentials make (`test-<role>` is the subject
    of every development token the tests mint; a key is named by its id)."""
    async with engine.connect() as connection:
        found = await connection.execute(
            text(KEY_IDS), {"prefixes": [key[3:11] for key in keys.values()]}
        )
        key_ids = {prefix: key_id for prefix, key_id in found}

    def principal(viewer: Viewer) -> str | None:
        if viewer.role == "anonymous":
            return None
        if viewer.role == "partner":
            return f"key:{key_ids[keys[viewer.name][3:11]]}"
        return f"{viewer.role}:test-{viewer.role}"

    return [replace(viewer, principal=principal(viewer)) for viewer in viewers]


def _headers(settings: Settings, viewer: Viewer, keys: dict[str, str]) -> dict[str, str]:
    if viewer.role == "partner":
        return {"x-api-key": keys[viewer.name]}
    if viewer.role == "anonymous":
        return {}
    if viewer.role == "worker":
        return bearer(settings, "worker", worker_id=str(viewer.worker_id))
    if viewer.role == "employer":
        return bearer(settings, "employer", employer_id=str(viewer.employer_id))
    if viewer.role == "staff":
        assert viewer.division is not None
        return bearer(settings, "staff", region=viewer.division)
    return bearer(settings, viewer.role)
