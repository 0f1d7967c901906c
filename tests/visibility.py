"""An oracle of who sees what: for each entity and each kind of viewer, the rows it must see.

Written from the README's table "Who may see what" (and its paragraph on partner keys) as
plain SQL over the base tables, and from nothing else: it imports no row policy, no catalog
and no declaration, so a defect in them can't make it agree. Where the policies compare code
prefixes (`division_prefix`), it walks the region tree (each region's parent) instead.

`RULES` holds one `Rows` per entity: its table, its key, and for each role the condition (over
the table aliased `t`) a row must meet to be seen; a role not named sees no row, an admin sees
every row. The conditions take the viewer's facts as parameters: `:worker_id`,
`:employer_id`, `:divisions` (a staff member's division, or a partner's regions),
`:purpose` (a partner's consent purpose) and `:principal` (who the viewer is, as the records
it made name it: `worker:<token subject>`, `key:<API key id>`). A new entity enters here,
with one condition per role that sees any of its rows: tests/test_visibility.py fails for an
entity of the catalog without one.

A partner key also bounds the types and fields it reaches (`reaches`, `allows`, `may_ask`);
these follow the README too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType, get_named_type
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import schema

Key = tuple[Any, ...]

EVERY_ROW = "true"
NO_ROW = "false"
ROLES = ("anonymous", "worker", "employer", "staff", "partner", "admin")

# The README's lists: what every key reaches, and what only a scope or a name reaches.
PUBLIC_TYPES = frozenset({"Employer", "Region", "Occupation", "Industry", "Skill"})
PERSONAL_TYPES = frozenset({
    "Worker", "Application", "Placement", "Enrollment", "InsuranceRecord", "JobIntention",
    "WorkerSkill", "Consent", "SkillSurvey", "AuditEvent",
})


def within(code: str) -> str:
    """The region `code` is one of the viewer's divisions or lies under one, by the tree."""
    return (
        f"{code} IN (WITH RECURSIVE under(code) AS ("
        "SELECT code FROM regions WHERE code = ANY(:divisions) "
        "UNION ALL SELECT r.code FROM regions r JOIN under u ON r.parent_code = u.code"
        ") SELECT code FROM under)"
    )


def consented(worker_id: str) -> str:
    """The worker has a live (not withdrawn) consent to the partner's purpose."""
    return (
        f"EXISTS (SELECT 1 FROM consents c WHERE c.worker_id = {worker_id} "
        "AND c.purpose = :purpose AND c.withdrawn_at IS NULL)"
    )


def through(column: str, parents: str, condition: str) -> str:
    """`t.<column>` is the id of a row of `parents` (aliased `p`) that meets `condition`."""
    return f"t.{column} IN (SELECT p.id FROM {parents} p WHERE {condition})"


def both(*conditions: str) -> str:
    return " AND ".join(f"({condition})" for condition in conditions)


def either(*conditions: str) -> str:
    return " OR ".join(f"({condition})" for condition in conditions)


@dataclass(frozen=True)
class Rows:
    """Who sees which rows of one entity's table (see the module docstring)."""

    table: str
    key: tuple[str, ...] = ("id",)
    anonymous: str = NO_ROW
    worker: str = NO_ROW
    employer: str = NO_ROW
    staff: str = NO_ROW
    partner: str = NO_ROW

    def seen_by(self, role: str) -> str:
        """The condition a row meets when a viewer of `role` may see it."""
        return EVERY_ROW if role == "admin" else str(getattr(self, role))

    @property
    def is_public(self) -> bool:
        return all(self.seen_by(role) == EVERY_ROW for role in ROLES)


def public(table: str, key: str = "id") -> Rows:
    """Seen by every viewer: reference data and registered employers."""
    return Rows(table, (key,), *[EVERY_ROW] * 5)


OWN = "t.worker_id = :worker_id"
# "Published jobs" are the ones published now: not past their validity, and not taken out of
# view by three or more open reports from different reporters until staff review them.
PUBLISHED = (
    "t.status = 'published' AND coalesce(t.valid_through > now(), true) AND "
    "(SELECT count(DISTINCT r.reporter) FROM job_reports r "
    " WHERE r.job_id = t.id AND r.status = 'open') < 3"
)
OWN_REPORT = "t.reporter = :principal"

WORKERS = Rows(
    "workers",
    worker="t.id = :worker_id",  # their own record
    employer="t.id IN (SELECT a.worker_id FROM applications a JOIN jobs j ON j.id = a.job_id "
    "WHERE j.employer_id = :employer_id)",  # the applicants to its jobs
    staff=either(within("t.current_region_code"), within("t.hukou_region_code")),
    partner=both(within("t.current_region_code"), consented("t.id")),
)


def of_worker(condition: str) -> str:
    """`t.worker_id` is a worker who meets `condition` (a condition of WORKERS, over `t`)."""
    return f"t.worker_id IN (SELECT t.id FROM workers t WHERE {condition})"


def with_its_worker(table: str, key: tuple[str, ...] = ("id",)) -> Rows:
    """A part of a worker's record (skills, job intentions), seen wherever the worker is."""
    def condition(role: str) -> str:
        worker = WORKERS.seen_by(role)
        return NO_ROW if worker == NO_ROW else of_worker(worker)

    return Rows(table, key, **{role: condition(role) for role in ROLES if role != "admin"})


def jobs_where(condition: str) -> str:
    return through("job_id", "jobs", condition)


def where_its_job_is(table: str) -> Rows:
    """A worker's record that lies where its job does (an application, a placement): the
    worker's own, the job's employer's, and by the job's region staff's and a consented
    partner's."""
    return Rows(
        table,
        worker=OWN,
        employer=jobs_where("p.employer_id = :employer_id"),
        staff=jobs_where(within("p.region_code")),
        partner=both(jobs_where(within("p.region_code")), consented("t.worker_id")),
    )


def trainings_where(condition: str) -> str:
    return through("training_id", "trainings", condition)


RULES: Mapping[str, Rows] = {
    "Region": public("regions", "code"),
    "Occupation": public("occupations", "code"),
    "Industry": public("industries", "code"),
    "Skill": public("skills", "code"),
    "Employer": public("employers"),
    "Job": Rows(
        "jobs",
        anonymous=PUBLISHED,
        worker=either(PUBLISHED, "t.id IN (SELECT a.job_id FROM applications a "
                                 "WHERE a.worker_id = :worker_id)"),
        employer=either(PUBLISHED, "t.employer_id = :employer_id"),
        staff=either(PUBLISHED, within("t.region_code")),
        partner=both(PUBLISHED, within("t.region_code")),
    ),
    "Training": Rows(
        "trainings", anonymous=EVERY_ROW, worker=EVERY_ROW, employer=EVERY_ROW,
        staff=EVERY_ROW, partner=within("t.region_code"),
    ),
    "Worker": WORKERS,
    "WorkerSkill": with_its_worker("worker_skills", ("worker_id", "skill_code")),
    "JobIntention": with_its_worker("job_intentions"),
    "Consent": Rows(  # the worker's own; staff's for the workers of their division
        "consents", worker=OWN, staff=of_worker(WORKERS.staff),
    ),
    "SkillSurvey": Rows(  # where the worker is seen, but not by employers (README)
        "skill_surveys", worker=OWN, staff=of_worker(WORKERS.staff),
        partner=of_worker(WORKERS.partner),
    ),
    "Application": where_its_job_is("applications"),
    "Placement": where_its_job_is("placements"),
    "Enrollment": Rows(  # where its training is; an employer's: of trainings it partners
        "enrollments",
        worker=OWN,
        employer=trainings_where("p.partner_employer_id = :employer_id"),
        staff=trainings_where(within("p.region_code")),
        partner=both(trainings_where(within("p.region_code")), consented("t.worker_id")),
    ),
    "InsuranceRecord": Rows(
        "insurance_records",
        worker=OWN,
        employer="t.employer_id = :employer_id",  # its contributions
        staff=within("t.region_code"),
        partner=both(within("t.region_code"), consented("t.worker_id")),
    ),
    "AuditEvent": Rows("audit_events"),  # admins only
    "JobReport": Rows(  # the reporter's own; staff's on the jobs of their division; never
        # the job's employer's (who might tell the reporter from the text)
        "job_reports",
        worker=OWN_REPORT,
        employer=OWN_REPORT,
        staff=either(OWN_REPORT, jobs_where(within("p.region_code"))),
        partner=OWN_REPORT,
    ),
}


# --- viewers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """What a partner key's agreement says: scopes (root fields), regions, consent purpose,
    the types it names and its field list (None: every field)."""

    scopes: frozenset[str]
    regions: tuple[str, ...]
    purpose: str
    types: frozenset[str] = frozenset()
    fields: frozenset[str] | None = None


@dataclass(frozen=True)
class Viewer:
    """Who asks: a role and the facts its rows are decided by."""

    name: str
    role: str
    worker_id: int | None = None
    employer_id: int | None = None
    division: str | None = None  # staff
    agreement: Agreement | None = field(default=None)  # partners
    principal: str | None = None  # whom the records it makes name

    def __post_init__(self) -> None:
        assert self.role in ROLES, self.role
        assert (self.agreement is not None) == (self.role == "partner"), self.name

    @property
    def parameters(self) -> dict[str, Any]:
        agreement = self.agreement
        regions = list(agreement.regions) if agreement else []
        return {
            "worker_id": self.worker_id,
            "employer_id": self.employer_id,
            "divisions": [self.division] if self.division else regions,
            "purpose": agreement.purpose if agreement else None,
            "principal": self.principal,
        }


async def seen_rows(connection: AsyncConnection, type_name: str, viewer: Viewer) -> set[Key]:
    """The keys of the rows of `type_name` that `viewer` may see."""
    rows = RULES[type_name]
    return await _keys(connection, rows, rows.seen_by(viewer.role), viewer.parameters)


async def every_row(connection: AsyncConnection, type_name: str) -> set[Key]:
    return await _keys(connection, RULES[type_name], EVERY_ROW, {})


async def _keys(
    connection: AsyncConnection, rows: Rows, condition: str, parameters: dict[str, Any]
) -> set[Key]:
    columns = ", ".join(f"t.{column}" for column in rows.key)
    statement = f"SELECT {columns} FROM {rows.table} t WHERE {condition}"
    used = {name: value for name, value in parameters.items() if f":{name}" in statement}
    return {tuple(row) for row in await connection.execute(text(statement), used)}


# --- what a partner key reaches ---------------------------------------------------------

GRAPHQL = schema.schema._schema


def returned_type(root_field: str) -> str | None:
    """The object type a root field answers with (a connection's node type), if any."""
    query = GRAPHQL.query_type
    assert query is not None
    named = get_named_type(query.fields[root_field].type)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        named = get_named_type(named.fields["nodes"].type)
    return named.name if isinstance(named, GraphQLObjectType) else None


def reaches(viewer: Viewer, type_name: str) -> bool:
    """Whether `viewer` may read `type_name` at all: a partner reaches reference data and
    employers, the types its scoped root fields return, the types it names, and the
    non-personal types of its field list."""
    agreement = viewer.agreement
    if agreement is None or type_name in PUBLIC_TYPES | agreement.types:
        return True
    scoped = {returned_type(s) for s in agreement.scopes if s in _query_fields()}
    listed = {rule.partition(".")[0] for rule in agreement.fields or ()} - PERSONAL_TYPES
    return type_name in scoped | listed


def allows(viewer: Viewer, type_name: str, field_name: str) -> bool:
    """Whether `viewer`'s field list (if any) lets it select `type_name.field_name`."""
    agreement = viewer.agreement
    if agreement is None or agreement.fields is None or field_name == "id":
        return True
    return {f"{type_name}.{field_name}", f"{type_name}.*"} & agreement.fields != set()


def may_ask(viewer: Viewer, root_fields: Iterable[str]) -> bool:
    """Whether `viewer`'s scopes (if a partner's) include every one of `root_fields`."""
    agreement = viewer.agreement
    return agreement is None or set(root_fields) <= agreement.scopes


def _query_fields() -> set[str]:
    query = GRAPHQL.query_type
    assert query is not None
    return set(query.fields)
