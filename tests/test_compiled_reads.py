"""Differential test: compiled reads answer exactly what the resolver path answers.

A generator (tests/read_generator.py) makes random read operations over the whole schema
(random selections and nesting, aliases, inline and named fragments, variables, filters with
values drawn from the seeded rows, ordering, paging forward and back with cursors,
`cursor`/`startCursor`/`endCursor`, `node`/`nodes`, fields resolved in Python), every one of
which must parse and validate, and runs each for every role (anonymous, two workers, two
employers, staff of a province, a prefecture and a county, admin, partner keys naming the
personal-data types: one whose purpose workers consented to, one nobody consented to, one
with a field list) through both paths: the app with compiled reads (falling back per root
field where it can't compile) and the app with compiled reads off. The answers must be
identical, errors included, and at least COMPILED_FLOOR of them given by the compiled path
whole: two answers of the resolver path agree whatever the compiled path would say.

Both paths share the row policies, the filter rules and cursor decoding, so this test can't
see a defect in them: tests/test_visibility.py holds the answers to an oracle of its own.

It runs with a fixed seed; `--seed N` runs another set, and a failure prints its seed.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from resolvers.catalog import decode_node_id, personal_data_types
from resolvers.errors import BadArgument
from server import compiled_reads
from server.auth import create_api_key
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
OPERATIONS = 300
DEFAULT_SEED = 20261202
COMPILED_FLOOR = 0.7  # of the answers, those the compiled path gave whole
PREPARER = DocumentPreparer(GRAPHQL)
# A partner's field list: some generated operations read fields beyond it, and are refused.
FIELD_LIST = [
    "Job.*", "Employer.*", "Training.*", "Region.*", "Occupation.*", "Industry.*",
    "Worker.createdAt", "Worker.gender", "Worker.name", "Worker.applications",
    "Application.*", "Placement.*", "InsuranceRecord.*",
]


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    return await find_subjects(gql)


@pytest.fixture(scope="module")
async def values(engine: AsyncEngine) -> Values:
    return await seeded_values(engine)


@pytest.fixture(scope="module")
async def partner_keys(engine: AsyncEngine, settings: Settings) -> AsyncIterator[dict[str, str]]:
    """Partner keys for every root field in two provinces, naming every personal-data type:
    one whose purpose every worker consented to, one whose purpose nobody did, and one with
    a field list (consented to)."""
    consented, unconsented = (f"diff-{uuid.uuid4().hex[:12]}" for _ in range(2))
    query = GRAPHQL.query_type
    assert query is not None
    vault = PersonalDataVault(settings.master_key())
    keys = {
        role: await create_api_key(
            engine, vault, partner="differential-test", scopes=list(query.fields),
            regions=["440000", "110000"], purpose=purpose, types=sorted(PERSONAL),
            fields=fields,
        )
        for role, purpose, fields in (
            ("partner", consented, None), ("partner-unconsented", unconsented, None),
            ("partner-field-list", consented, FIELD_LIST),
        )
    }
    async with every_worker_consenting(engine, consented):
        yield keys


def role_headers(
    settings: Settings, subjects: Subjects, partner_keys: dict[str, str]
) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "worker": bearer(settings, "worker", worker_id=subjects.worker),
        "employer": bearer(settings, "employer", employer_id=subjects.employer),
        "staff": bearer(settings, "staff", region=subjects.province),
        "staff of a prefecture": bearer(settings, "staff", region="411400"),
        "staff of a county": bearer(settings, "staff", region="411481"),
        "admin": bearer(settings, "admin"),
        **{role: {"x-api-key": key} for role, key in partner_keys.items()},
        # After the first worker and employer: these run on the plans compiled for them,
        # their own ids set as the plans' parameters (server.compiled_reads).
        "another worker": bearer(settings, "worker", worker_id=subjects.other_worker),
        "another employer": bearer(settings, "employer", employer_id=subjects.other_employer),
    }


def generated(seed: int, values: Values) -> list[tuple[int, str, dict[str, Any], int]]:
    """The operations of `seed` with the number of their root fields, each one checked to
    parse and validate."""
    found, refused = [], []
    for index, text, variables in operations(seed, values, OPERATIONS):
        prepared = PREPARER.prepare_now(text)
        if prepared.document is None or prepared.errors:
            refused.append(f"operation {index}: {prepared.errors[0].message}\n{text}")
            continue
        operation = prepared.document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        found.append((index, text, variables, len(operation.selection_set.selections)))
    assert not refused, f"seed {seed}: {len(refused)} operations do not parse or validate:\n" + (
        "\n".join(refused[:5])
    )
    return found


async def test_compiled_reads_answer_what_the_resolvers_answer(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    subjects: Subjects, partner_keys: dict[str, str], engine: AsyncEngine,
    pytestconfig: pytest.Config, values: Values,
) -> None:
    seed = pytestconfig.getoption("seed") or DEFAULT_SEED
    roles = role_headers(settings, subjects, partner_keys)
    paths: list[str] = []  # each answer's X-Read-Path
    roots: list[str] = []  # the path of each root field answered
    refusals = 0  # answers refused before either path ran (a partner's agreement)
    audits = Audits(engine)
    for index, text, variables, root_fields in generated(seed, values):
        for role, headers in roles.items():
            where = f"seed {seed}, operation {index} as {role}:\n{text}\n{json.dumps(variables)}"
            partner = role.startswith("partner")
            if partner:
                await audits.mark()
            compiled = await GraphQLClient(http, headers)(text, variables)
            compiled_audit = await audits.since_mark() if partner else set()
            resolved = await GraphQLClient(http_resolvers, headers)(text, variables)
            if partner:
                resolved_audit = await audits.since_mark()
                shown = _personal_ids(compiled.body.get("data"))
                # Every personal row shown with its ID is audited; the compiled path audits no
                # row the resolver path does not (which also audits rows it read but did not
                # show, such as the page behind a lone totalCount).
                assert shown <= compiled_audit, f"{where}\nnot audited: {shown - compiled_audit}"
                assert compiled_audit <= resolved_audit, (
                    f"{where}\naudited only when compiled: {compiled_audit - resolved_audit}"
                )
            refused = compiled.status == 400
            assert not refused or {e["extensions"]["code"] for e in compiled.errors} == {
                "FORBIDDEN"
            }, f"{where}\n{compiled.body}"  # only a partner's agreement refuses a request
            refusals += refused
            paths.append(compiled.headers.get("x-read-path", ""))
            read_paths = (compiled.body.get("extensions") or {}).pop("readPaths", None)
            if compiled.body.get("extensions") == {}:
                del compiled.body["extensions"]
            roots.extend((read_paths or {}).values())
            assert (compiled.status, _comparable(compiled.body, root_fields)) == (
                resolved.status, _comparable(resolved.body, root_fields)
            ), where
    compiled_share = paths.count("compiled") / len(paths)
    mixed_share = paths.count("compiled+resolvers") / len(paths)
    root_share = roots.count("compiled") / len(roots)
    summary = (
        f"seed {seed}: {OPERATIONS} operations (all parse and validate) as {len(roles)} roles; "
        f"compiled: {compiled_share:.1%} of {len(paths)} answers wholly, {mixed_share:.1%} in "
        f"part, {refusals / len(paths):.1%} refused before either path; {root_share:.1%} of "
        f"{len(roots)} root fields"
    )
    print(summary)
    # Answers the resolver path gave on both sides compare it with itself: a floor on those
    # the compiled path gave keeps the comparison a comparison.
    assert compiled_share >= COMPILED_FLOOR, f"below the floor of {COMPILED_FLOOR:.0%}: {summary}"
    assert mixed_share > 0.02, "no operation was answered by both paths"


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
