"""Differential test: compiled reads answer exactly what the resolver path answers.

A generator (tests/read_generator.py) makes random read operations over the whole schema
(random selections and nesting, aliases, inline and named fragments, variables, filters with
values drawn from the seeded rows, ordering, paging forward and back with cursors,
`cursor`/`startCursor`/`endCursor`, `node`/`nodes`, fields resolved in Python), every one of
which must parse and validate, and runs each for the roles of some families of roles
(FAMILIES: anonymous; two workers, with skill surveys and job reports of their own; two
employers; staff of a province, a prefecture and a county; partner keys naming the
personal-data types: one whose purpose workers consented to, one nobody consented to, one
with a field list, one of a prefecture naming a few types; admin), and hand-written
operations over the newer entities and relations (skill surveys, job reports, placements of
applications, versions, recommendations) for every role, through both paths: the app with
compiled reads (falling back per root field where it can't compile) and the app with compiled
reads off.
The answers must be identical, errors included, and at least COMPILED_FLOOR of them given by
the compiled path whole: two answers of the resolver path agree whatever the compiled path
would say. Each role must have been shown rows of the newer types it may see, and none of
those it may not.

Both paths share the row policies, the filter rules and cursor decoding, so this test can't
see a defect in them: tests/test_visibility.py holds the answers to an oracle of its own.

It runs with a fixed seed; `--seed N` runs another set, and a failure prints its seed.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from resolvers.catalog import decode_node_id, personal_data_types
from resolvers.errors import BadArgument
from resolvers.global_ids import encode_global_id
from server import compiled_reads
from server.auth import create_api_key, revoke_api_key
from server.graphql_http.preparation import DocumentPreparer
from server.settings import Settings
from tests.conftest import GraphQLClient, answer, bearer
from tests.partners import every_worker_consenting
from tests.read_generator import (
    GRAPHQL,
    MISSING_JOB,
    REGION_CODES,
    Values,
    operations,
    seeded_values,
)
from tests.subjects import Subjects, find_subjects

PERSONAL = personal_data_types()
OPERATIONS = 100  # generated, each asked as the roles of FAMILIES_EACH families
FAMILIES_EACH = 2
DEFAULT_SEED = 20261202
COMPILED_FLOOR = 0.7  # of the answers, those the compiled path gave whole
PREPARER = DocumentPreparer(GRAPHQL)
# A partner's field list: some generated operations read fields beyond it, and are refused.
FIELD_LIST = [
    "Job.*", "Employer.*", "Training.*", "Region.*", "Occupation.*", "Industry.*",
    "Worker.createdAt", "Worker.gender", "Worker.name", "Worker.applications",
    "Application.*", "Placement.*", "InsuranceRecord.*", "SkillSurvey.*", "JobReport.*",
    "Worker.latestSurvey",
]
# Roles in families: each generated operation is asked as every role of some families, in
# order. A role of a family's shape after its first (another worker, employer, division,
# consent) runs on the plans compiled for the first, its own ids, divisions, regions and
# purposes set as the plans' parameters (server.compiled_reads).
FAMILIES = (
    ("anonymous",),
    ("worker", "another worker"),
    ("employer", "another employer"),
    ("staff", "staff of a prefecture", "staff of a county"),
    ("partner", "partner-unconsented", "partner-field-list", "partner of a prefecture"),
    ("admin",),
)
ROLES = [role for family in FAMILIES for role in family]
# The newer types each role must be shown rows of, and may not be (README, "Who may see
# what"): a worker sees their own surveys, staff those of their division, consented partners
# those of their regions; job reports are seen by their reporter (each role's principal made
# some, the workers' are seeded), staff of the job's division and admins.
SHOWN = {
    "SkillSurvey": {
        "worker", "another worker", "staff", "staff of a prefecture", "staff of a county",
        "partner", "partner-field-list", "partner of a prefecture", "admin",
    },
    "JobReport": set(ROLES) - {"anonymous"},
}
NEVER_SHOWN = {
    "SkillSurvey": {"anonymous", "employer", "another employer", "partner-unconsented"},
    "JobReport": {"anonymous"},
}
# Workers (with applications, a current region and two surveys or more) and seeded reporters
# the two workers' tokens name, so that each sees surveys and reports of their own.
SURVEYED_WORKERS = """SELECT w.id, w.current_region_code FROM workers w
  WHERE w.current_region_code IS NOT NULL
    AND EXISTS (SELECT 1 FROM applications a WHERE a.worker_id = w.id)
    AND (SELECT count(*) FROM skill_surveys s WHERE s.worker_id = w.id) >= 2
  ORDER BY w.id LIMIT 2"""
SEEDED_REPORTERS = """SELECT DISTINCT reporter FROM job_reports
  WHERE reporter LIKE 'worker:seed-%' ORDER BY reporter LIMIT 2"""
# Jobs nobody reported: one open and one dismissed report by each of the roles' principals,
# each on a job of its own (no job gets a second open report, none leaves the public view).
UNREPORTED_JOBS = """SELECT j.id FROM jobs j
  WHERE NOT EXISTS (SELECT 1 FROM job_reports r WHERE r.job_id = j.id)
  ORDER BY j.id LIMIT :count"""
REPORT = """INSERT INTO job_reports (job_id, reporter, reason, text, status, reviewed_at)
  VALUES (:job, :reporter, :reason, :text, :status, :reviewed) RETURNING id"""
KEY_IDS = "SELECT prefix, id FROM api_keys WHERE prefix = ANY(:prefixes)"


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    return await find_subjects(gql)


@pytest.fixture(scope="module")
async def values(engine: AsyncEngine) -> Values:
    return await seeded_values(engine)


@dataclass(frozen=True)
class Actors:
    """Whom the roles act as, beyond `Subjects`: two workers with surveys of their own, the
    seeded reporters their tokens name, and the first worker's province and prefecture."""

    workers: list[str]  # global IDs
    reporters: list[str]  # token subjects: `seed-...` of `worker:seed-...`
    reported_job: str  # a job the first reporter reported
    province: str
    prefecture: str


@pytest.fixture(scope="module")
async def actors(engine: AsyncEngine) -> Actors:
    async with engine.connect() as connection:
        workers = (await connection.execute(sql(SURVEYED_WORKERS))).all()
        reporters = list((await connection.execute(sql(SEEDED_REPORTERS))).scalars())
        reported = await connection.scalar(
            sql("SELECT job_id FROM job_reports WHERE reporter = :reporter ORDER BY id LIMIT 1"),
            {"reporter": reporters[0]},
        )
    assert len(workers) == 2 and len(reporters) == 2, "the seed has too few surveys or reports"
    region = workers[0].current_region_code
    return Actors(
        workers=[encode_global_id("Worker", worker.id) for worker in workers],
        reporters=[reporter.removeprefix("worker:") for reporter in reporters],
        reported_job=encode_global_id("Job", reported),
        province=region[:2] + "0000",
        prefecture=region[:4] + "00",
    )


@pytest.fixture(scope="module")
async def partner_keys(
    engine: AsyncEngine, settings: Settings, actors: Actors
) -> AsyncIterator[dict[str, str]]:
    """Partner keys for every root field, naming every personal-data type, in two provinces:
    one whose purpose every worker consented to, one whose purpose nobody did, and one with
    a field list (consented to); and one in a prefecture, for a few root fields and types
    (consented to)."""
    consented, unconsented = (f"diff-{uuid.uuid4().hex[:12]}" for _ in range(2))
    query = GRAPHQL.query_type
    assert query is not None
    vault = PersonalDataVault(settings.master_key())
    provinces, every_type = ["440000", "110000"], sorted(PERSONAL)
    every_root = list(query.fields)
    few_roots = ["workers", "skillSurveys", "jobReports", "node", "nodes"]
    keys = {
        role: await create_api_key(
            engine, vault, partner="differential-test", scopes=scopes, regions=regions,
            purpose=purpose, types=types, fields=fields,
        )
        for role, scopes, regions, purpose, types, fields in (
            ("partner", every_root, provinces, consented, every_type, None),
            ("partner-unconsented", every_root, provinces, unconsented, every_type, None),
            ("partner-field-list", every_root, provinces, consented, every_type, FIELD_LIST),
            ("partner of a prefecture", few_roots, [actors.prefecture], consented,
             ["Application", "SkillSurvey", "Worker"], None),
        )
    }
    try:
        async with every_worker_consenting(engine, consented):
            yield keys
    finally:
        for key in keys.values():
            await revoke_api_key(engine, key[3:11])


@pytest.fixture(scope="module")
async def reports(engine: AsyncEngine, partner_keys: dict[str, str]) -> AsyncIterator[list[str]]:
    """An open and a dismissed report by each principal the roles' tokens and keys make but
    the workers' (whose reports are seeded), each on a job nobody else reported; their
    global IDs. Removed after."""
    async with engine.begin() as connection:
        found = await connection.execute(
            sql(KEY_IDS), {"prefixes": [key[3:11] for key in partner_keys.values()]}
        )
        principals = [
            "employer:test-employer", "staff:test-staff", "admin:test-admin",
            *(f"key:{key_id}" for _prefix, key_id in sorted(found.all())),
        ]
        jobs = list((await connection.execute(
            sql(UNREPORTED_JOBS), {"count": 2 * len(principals)}
        )).scalars())
        assert len(jobs) == 2 * len(principals), "too few jobs nobody reported"
        made = [
            await connection.scalar(sql(REPORT), {
                "job": job, "reporter": principal, "reason": reason, "text": text,
                "status": status, "reviewed": None if status == "open" else now,
            })
            for principal, pair in zip(principals, zip(jobs[::2], jobs[1::2], strict=True),
                                       strict=True)
            for job, reason, text, status, now in (
                (pair[0], "fake", "", "open", None),
                (pair[1], "charges_fees", "要求先交押金", "dismissed", datetime.now(UTC)),
            )
        ]
    try:
        yield [encode_global_id("JobReport", report) for report in made]
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                sql("DELETE FROM job_reports WHERE id = ANY(:ids)"), {"ids": made}
            )


def role_headers(
    settings: Settings, subjects: Subjects, actors: Actors, partner_keys: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Each role's credentials, in the order of ROLES."""
    workers = [
        bearer(settings, "worker", subject, worker_id=worker)
        for subject, worker in zip(actors.reporters, actors.workers, strict=True)
    ]
    headers = {
        "anonymous": {},
        "worker": workers[0],
        "another worker": workers[1],
        "employer": bearer(settings, "employer", employer_id=subjects.employer),
        "another employer": bearer(settings, "employer", employer_id=subjects.other_employer),
        "staff": bearer(settings, "staff", region=actors.province),
        "staff of a prefecture": bearer(settings, "staff", region="411400"),
        "staff of a county": bearer(settings, "staff", region="411481"),
        "admin": bearer(settings, "admin"),
        **{role: {"x-api-key": key} for role, key in partner_keys.items()},
    }
    assert set(headers) == set(ROLES)
    return {role: headers[role] for role in ROLES}


def focused(values: Values, actors: Actors, reports: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Operations over the newer entities and relations, their filters and orderings, asked
    as every role: skill surveys (root, filtered, ordered, paged back; a worker's page and
    latest), job reports (root, filtered, ordered; their job), placements of applications,
    jobs' applications and placements, versions, `nodes` of the newer types."""
    survey_fields = (
        "id skillCodes intendedOccupationCodes intendedRegionCodes expectedSalary "
        "willingToRelocate trainingNeeds servicePoint surveyedAt createdAt"
    )
    ids = [
        *values.ids["SkillSurvey"][:2], *values.ids["JobReport"][:2], *reports,
        actors.workers[0], MISSING_JOB,
    ]
    return [
        ("query Surveys { skillSurveys(first: 4) { totalCount pageInfo { hasNextPage "
         "hasPreviousPage startCursor endCursor } edges { cursor node { " + survey_fields +
         " worker { id name version updatedAt latestSurvey { id } } } } } }", {}),
        ("query SurveysOf($worker: ID, $after: DateTime) { mine: skillSurveys(last: 3, "
         "filter: {workerId: $worker, surveyedAfter: $after}, orderBy: {field: SURVEYED_AT, "
         "direction: ASC}) { totalCount nodes { id surveyedAt willingToRelocate worker { id } } "
         "} relocating: skillSurveys(first: 5, filter: {willingToRelocate: true, "
         'surveyedBefore: "2030-01-01T00:00:00Z"}) { totalCount pageInfo { hasNextPage } '
         "nodes { id expectedSalary } } }",
         {"worker": actors.workers[0], "after": "2000-01-01T00:00:00Z"}),
        ("query Reports { jobReports(first: 5) { totalCount pageInfo { hasNextPage endCursor } "
         "nodes { id reason text status createdAt reviewedAt job { id title version status "
         "openingsLeft employer { id name } } } } }", {}),
        ("query ReportsOf($status: JobReportStatus, $job: ID) { open: jobReports(last: 4, "
         "filter: {status: $status, reason: FAKE}, orderBy: {field: CREATED_AT, direction: "
         "ASC}) { totalCount nodes { id status reason } } ofJob: jobReports(first: 3, filter: "
         "{jobId: $job}, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount nodes { "
         "id reason createdAt } } }",
         {"status": "OPEN", "job": actors.reported_job}),
        ("query Surveyed { workers(first: 6) { totalCount nodes { id version updatedAt "
         "latestSurvey { id surveyedAt worker { id } } surveys(first: 2) { totalCount pageInfo "
         "{ hasNextPage endCursor } edges { cursor node { id surveyedAt } } } } } }", {}),
        ("query Worker($id: ID!) { node(id: $id) { id ... on Worker { version latestSurvey { "
         + survey_fields + " } surveys(last: 1) { totalCount pageInfo { hasPreviousPage "
         "startCursor } nodes { id surveyedAt } } applications(first: 3) { nodes { id version "
         "placements { id startedOn job { id } } } } } } }", {"id": actors.workers[0]}),
        ("query Hiring { jobs(first: 5, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { "
         "id version openingsFilled applications(first: 3) { totalCount nodes { id version "
         "status placements { id startedOn } worker { id latestSurvey { id } } } } "
         "placements(last: 2) { totalCount nodes { id startedOn } } } } }", {}),
        ("query Newer($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on SkillSurvey { "
         "surveyedAt worker { id } } ... on JobReport { status reason job { id } } ... on "
         "Worker { latestSurvey { id } } } }", {"ids": ids}),
        ("query Matching($worker: ID!, $job: ID!, $n: Int) { jobs: recommendedJobs(workerId: "
         "$worker, first: $n) { __typename recommendations { score reasons job { id title "
         "status employer { name } } } userErrors { field code message } } workers: "
         "recommendedWorkers(jobId: $job, first: 4) { recommendations { __typename score "
         "reasons worker { id name recommendationOptOut latestSurvey { id } } } userErrors { "
         "__typename code } } trainings: trainingRecommendations(workerId: $worker) { "
         "recommendations { training { id title seatsLeft } score } userErrors { message } } }",
         {"worker": actors.workers[0], "job": actors.reported_job, "n": 6}),
        ("query MatchingInline { recommendedJobs(workerId: \"" + actors.workers[1] + "\") { "
         "recommendations { reasons job { id } } userErrors { code field } } "
         "recommendedWorkers(jobId: \"" + MISSING_JOB + "\") { userErrors { code field } "
         "recommendations { score } } }", {}),
    ]


def root_fields(label: str, text: str) -> int:
    """How many root fields the operation `text` has; it must parse and validate."""
    prepared = PREPARER.prepare_now(text)
    assert prepared.document is not None and not prepared.errors, (
        f"{label} does not parse or validate: {prepared.errors[:1]}\n{text}"
    )
    operation = prepared.document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return len(operation.selection_set.selections)


@dataclass(frozen=True)
class Case:
    label: str
    text: str
    variables: dict[str, Any]
    root_fields: int
    roles: list[str]


def cases(seed: int, values: Values, actors: Actors, reports: list[str]) -> list[Case]:
    """The focused operations as every role, then the generated ones of `seed`, each as the
    roles of FAMILIES_EACH families drawn with the seed (every generated operation is checked
    to parse and validate)."""
    found = [
        Case(f"focused operation {index}", text, variables,
             root_fields(f"focused operation {index}", text), ROLES)
        for index, (text, variables) in enumerate(focused(values, actors, reports))
    ]
    draw = random.Random(seed)
    for index, text, variables in operations(seed, values, OPERATIONS):
        families = draw.sample(FAMILIES, FAMILIES_EACH)
        roles = [role for family in FAMILIES if family in families for role in family]
        label = f"seed {seed}, operation {index}"
        found.append(Case(label, text, variables, root_fields(label, text), roles))
    return found


async def test_compiled_reads_answer_what_the_resolvers_answer(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    subjects: Subjects, actors: Actors, partner_keys: dict[str, str], reports: list[str],
    engine: AsyncEngine, pytestconfig: pytest.Config, values: Values,
) -> None:
    seed = pytestconfig.getoption("seed") or DEFAULT_SEED
    roles = role_headers(settings, subjects, actors, partner_keys)
    paths: list[str] = []  # each answer's X-Read-Path
    roots: list[str] = []  # the path of each root field answered
    refusals = 0  # answers refused before either path ran (a partner's agreement)
    answered = dict.fromkeys(roles, 0)  # answers per role
    shown: dict[str, set[str]] = {role: set() for role in roles}  # types of the IDs shown
    audits = Audits(engine)
    every = cases(seed, values, actors, reports)
    for case in every:
        for role in case.roles:
            headers = roles[role]
            text, variables = case.text, case.variables
            where = f"{case.label} as {role}:\n{text}\n{json.dumps(variables)}"
            partner = role.startswith("partner")
            if partner:
                await audits.mark()
            compiled = await GraphQLClient(http, headers)(text, variables)
            compiled_audit = await audits.since_mark() if partner else set()
            resolved = await GraphQLClient(http_resolvers, headers)(text, variables)
            if partner:
                resolved_audit = await audits.since_mark()
                personal = _personal_ids(compiled.body.get("data"))
                # Every personal row shown with its ID is audited; the compiled path audits no
                # row the resolver path does not (which also audits rows it read but did not
                # show, such as the page behind a lone totalCount).
                assert personal <= compiled_audit, (
                    f"{where}\nnot audited: {personal - compiled_audit}"
                )
                assert compiled_audit <= resolved_audit, (
                    f"{where}\naudited only when compiled: {compiled_audit - resolved_audit}"
                )
            refused = compiled.status == 400
            assert not refused or {e["extensions"]["code"] for e in compiled.errors} == {
                "FORBIDDEN"
            }, f"{where}\n{compiled.body}"  # only a partner's agreement refuses a request
            refusals += refused
            answered[role] += 1
            shown[role] |= _types_shown(compiled.body.get("data"))
            paths.append(compiled.headers.get("x-read-path", ""))
            read_paths = (compiled.body.get("extensions") or {}).pop("readPaths", None)
            if compiled.body.get("extensions") == {}:
                del compiled.body["extensions"]
            roots.extend((read_paths or {}).values())
            assert (compiled.status, _comparable(compiled.body, case.root_fields)) == (
                resolved.status, _comparable(resolved.body, case.root_fields)
            ), where
    compiled_share = paths.count("compiled") / len(paths)
    mixed_share = paths.count("compiled+resolvers") / len(paths)
    root_share = roots.count("compiled") / len(roots)
    summary = (
        f"seed {seed}: {len(every) - OPERATIONS} focused and {OPERATIONS} generated operations "
        f"(all parse and validate) as {len(roles)} roles "
        f"({min(answered.values())} to {max(answered.values())} answers each); "
        f"compiled: {compiled_share:.1%} of {len(paths)} answers wholly, {mixed_share:.1%} in "
        f"part, {refusals / len(paths):.1%} refused before either path; {root_share:.1%} of "
        f"{len(roots)} root fields"
    )
    print(summary)
    # Answers the resolver path gave on both sides compare it with itself: a floor on those
    # the compiled path gave keeps the comparison a comparison.
    assert compiled_share >= COMPILED_FLOOR, f"below the floor of {COMPILED_FLOOR:.0%}: {summary}"
    assert mixed_share > 0.02, "no operation was answered by both paths"
    assert min(answered.values()) >= len(every) - OPERATIONS + OPERATIONS // len(FAMILIES), (
        f"some role answered too few operations: {answered}"
    )
    for type_name, seeing in SHOWN.items():
        assert {role for role in seeing if type_name not in shown[role]} == set(), (
            f"roles shown no {type_name}"
        )
        assert {role for role in NEVER_SHOWN[type_name] if type_name in shown[role]} == set(), (
            f"roles shown a {type_name} they may not see"
        )


@dataclass
class Audits:
    """The record ids audited since a mark (a partner's reads of personal data)."""

    engine: AsyncEngine
    last: int = 0

    async def mark(self) -> None:
        async with self.engine.connect() as connection:
            found = await connection.scalar(sql("SELECT coalesce(max(id), 0) FROM audit_events"))
        self.last = int(found or 0)

    async def since_mark(self) -> set[str]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(
                sql("SELECT id, record_ids FROM audit_events WHERE id > :last"),
                {"last": self.last},
            )).all()
        self.last = max([self.last, *(row.id for row in rows)])
        return {record for row in rows for record in row.record_ids}


def _types_shown(value: Any) -> set[str]:
    """The types of the global IDs in a response's data."""
    if isinstance(value, dict):
        return set().union(*map(_types_shown, value.values()))
    if isinstance(value, list):
        return set().union(*map(_types_shown, value))
    if isinstance(value, str):
        try:
            named = decode_node_id(value, "id")
        except BadArgument:
            return set()
        if named is not None:
            return {named[0].name}
    return set()


def _personal_ids(value: Any) -> set[str]:
    """Every global ID of a personal-data row in a response's data: each must be audited."""
    if isinstance(value, dict):
        return set().union(*map(_personal_ids, value.values()))
    if isinstance(value, list):
        return set().union(*map(_personal_ids, value))
    if isinstance(value, str):
        try:
            named = decode_node_id(value, "id")
        except BadArgument:
            return set()
        if named is not None and named[0].name in PERSONAL:
            return {value}
    return set()


async def test_one_plan_serves_every_id_of_a_type(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    values: Values,
) -> None:
    """`node(id: $id)` compiles once per type the ID names: the key is a parameter."""
    query = "query One($id: ID!) { node(id: $id) { id ... on Job { title status } } }"
    headers = bearer(settings, "admin")
    for job_id in [*values.ids["Job"][:5], MISSING_JOB]:
        compiled = await GraphQLClient(http, headers)(query, {"id": job_id})
        resolved = await GraphQLClient(http_resolvers, headers)(query, {"id": job_id})
        assert compiled.headers["x-read-path"] == "compiled"
        assert compiled.body["data"] == resolved.body["data"], job_id
    assert compiled.body["data"] == {"node": None}  # Job:999999999 does not exist
    plans = [key for key in compiled_reads._plans if isinstance(key, tuple) and key[0][0] == query]
    assert len(plans) == 1, "one plan for every job ID"


async def test_one_plan_serves_every_page_of_a_list(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
) -> None:
    """Paging with `after: $cursor` compiles once per ordering: the cursor is a parameter;
    a cursor the plan can't take (another type's sort value) goes to the resolver path."""
    query = (
        "query Page($after: String) { jobs(first: 3, after: $after) { "
        "pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id title } } }"
    )
    headers = bearer(settings, "admin")
    after, pages = None, []
    for _ in range(4):
        compiled = await GraphQLClient(http, headers)(query, {"after": after})
        resolved = await GraphQLClient(http_resolvers, headers)(query, {"after": after})
        assert compiled.headers["x-read-path"] == "compiled"
        assert compiled.body["data"] == resolved.body["data"]
        pages.append([node["id"] for node in compiled.body["data"]["jobs"]["nodes"]])
        after = compiled.body["data"]["jobs"]["pageInfo"]["endCursor"]
    assert len({job for page in pages for job in page}) == 12, "four pages, no repeats"
    plans = [key for key in compiled_reads._plans if isinstance(key, tuple) and key[0][0] == query]
    assert len(plans) == 2, "one plan without a cursor, one for every cursor"
    wrong = base64.urlsafe_b64encode(b'["posted_at:desc", "not a time", 5]').decode()
    compiled = await GraphQLClient(http, headers)(query, {"after": wrong})
    resolved = await GraphQLClient(http_resolvers, headers)(query, {"after": wrong})
    assert compiled.headers["x-read-path"] == "resolvers"
    assert compiled.body["errors"] == resolved.body["errors"]
    assert "after" in compiled.body["errors"][0]["message"]


def _comparable(body: dict[str, Any], root_fields: int) -> dict[str, Any]:
    """The body with error ids left out. When several root fields failed and one of them,
    non-null, nulled the whole data, its errors by code only: graphql-core reports the error
    of the field that failed first and stops, and which one that is depends on what each
    awaited (the compiled path may have looked up rows an argument names already)."""
    masked = _masked(body)
    errors = masked.get("errors") or []
    if root_fields > 1 and "data" in masked and masked["data"] is None and errors:
        return {"data": None, "errors": sorted(e["extensions"]["code"] for e in errors)}
    return masked


def _masked(body: dict[str, Any]) -> dict[str, Any]:
    """The body with error ids (which differ per request) left out."""
    for error in body.get("errors") or []:
        message = str(error.get("message", ""))
        if "error id:" in message:
            error["message"] = message.split("error id:")[0]
    return body


JOBS_FILTERED = (
    "query Search($filter: JobFilter) { jobs(first: 5, filter: $filter) { "
    "totalCount nodes { id title status salaryMin salaryMax postedAt } } }"
)


async def test_one_plan_serves_every_value_of_a_filter(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
) -> None:
    """`filter: $filter` compiles once per set of fields given: values of rules whose SQL is
    the same for every value are parameters, checked on every request as the rule checks
    them (errors, ranges included, match the resolver path's); a refused value does not keep
    the plan from compiling the next."""
    headers = bearer(settings, "admin")
    employers = await GraphQLClient(http, headers)("{ employers(first: 2) { nodes { id } } }")
    first, second = (node["id"] for node in employers.body["data"]["employers"]["nodes"])
    filters: list[tuple[dict[str, Any], str]] = [
        ({"keyword": "   "}, "resolvers"),  # refused first: must not stick to the shape
        ({"keyword": "工"}, "compiled"),
        ({"keyword": "100%_\\"}, "compiled"),  # LIKE's own characters, escaped
        ({"status": "PUBLISHED"}, "compiled"),
        ({"status": "CLOSED"}, "compiled"),
        ({"salaryMin": "3000", "salaryMax": "9000"}, "compiled"),
        ({"salaryMin": "9000", "salaryMax": "3000"}, "resolvers"),  # the range is refused
        ({"salaryMin": "6000", "salaryMax": "6000"}, "compiled"),
        ({"employerId": first}, "compiled"),
        ({"employerId": second}, "compiled"),
        ({"employerId": "V29ya2VyOjE="}, "resolvers"),  # a Worker's ID
        ({"postedAfter": "2026-01-01T00:00:00Z", "keyword": "工"}, "compiled"),
        ({"postedAfter": "2020-01-01T00:00:00Z", "keyword": "员"}, "compiled"),
    ]
    for given, path in filters:
        compiled = await GraphQLClient(http, headers)(JOBS_FILTERED, {"filter": given})
        resolved = await GraphQLClient(http_resolvers, headers)(JOBS_FILTERED, {"filter": given})
        assert compiled.headers["x-read-path"] == path, given
        assert answer(compiled.body) == answer(resolved.body), given
    plans = [
        key for key in compiled_reads._plans
        if isinstance(key, tuple) and key[0][0] == JOBS_FILTERED
    ]
    # keyword; status; salary range; employer; posted + keyword
    assert len(plans) == 5, "one plan per set of filter fields given"


async def test_filter_fields_by_variable_share_a_plan(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
) -> None:
    """Inline filter fields given by variables are parameters too; a rule whose SQL depends
    on the value (a region's level, set or not set) keeps the value in the plan's key."""
    query = (
        "query Near($keyword: String, $region: String, $after: DateTime) { "
        "jobs(first: 4, filter: {keyword: $keyword, regionCode: $region, postedAfter: $after}) "
        "{ nodes { id title region { code } } } }"
    )
    headers = bearer(settings, "admin")
    cases = [
        {"keyword": "工", "region": REGION_CODES[0]},
        {"keyword": "员", "region": REGION_CODES[0]},
        {"keyword": "员", "region": REGION_CODES[-1], "after": "2025-06-01T00:00:00Z"},
        {"keyword": "", "region": REGION_CODES[0]},  # blank: refused
        {"region": "999999"},  # no such region: refused
    ]
    for variables in cases:
        compiled = await GraphQLClient(http, headers)(query, variables)
        resolved = await GraphQLClient(http_resolvers, headers)(query, variables)
        assert answer(compiled.body) == answer(resolved.body), variables
    plans = [key for key in compiled_reads._plans if isinstance(key, tuple) and key[0][0] == query]
    assert len(plans) == 2, "the keyword is a parameter; each region its own plan"


async def test_a_variable_also_used_in_a_fragment_is_not_bound(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
) -> None:
    """A variable that names a root node and is also used elsewhere (in a fragment) keeps
    its value in the plan's key: each use sees each request's value."""
    query = (
        "query Both($id: ID!) { node(id: $id) { id } ...More } "
        "fragment More on Query { nodes(ids: [$id]) { id } }"
    )
    headers = bearer(settings, "admin")
    employers = await GraphQLClient(http, headers)("{ employers(first: 2) { nodes { id } } }")
    for node in employers.body["data"]["employers"]["nodes"]:
        compiled = await GraphQLClient(http, headers)(query, {"id": node["id"]})
        resolved = await GraphQLClient(http_resolvers, headers)(query, {"id": node["id"]})
        assert compiled.headers["x-read-path"] == "compiled"
        assert answer(compiled.body) == answer(resolved.body)
        assert compiled.body["data"] == {"node": {"id": node["id"]}, "nodes": [{"id": node["id"]}]}
