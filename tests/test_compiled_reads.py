"""Differential test: compiled reads answer exactly what the resolver path answers.

A generator makes random read operations over the whole schema (random selections and
nesting, aliases, inline and named fragments, variables, filters, ordering, paging forward and
back with cursors, `cursor`/`startCursor`/`endCursor`, `node`/`nodes`, fields resolved in
Python) and runs each for every role (anonymous, worker, employer, staff of a division,
admin, a partner key whose purpose workers consented to and one nobody consented to) through
both paths: the app with compiled reads (falling back per root field where it can't compile)
and the app with compiled reads off. The answers must be identical, errors included.

It runs with a fixed seed; `--seed N` runs another set, and a failure prints its seed.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

import schema
from db.pii import PersonalDataVault
from resolvers.catalog import decode_node_id, personal_data_types
from resolvers.declarations import Entity, ToMany, declaration_of
from resolvers.errors import BadArgument
from resolvers.pagination import Ordering
from server import compiled_reads
from server.auth import create_api_key
from server.settings import Settings
from tests.conftest import GraphQLClient, answer, bearer
from tests.partners import every_worker_consenting
from tests.subjects import Subjects, find_subjects

OPERATIONS = 300
DEFAULT_SEED = 20261202
GRAPHQL = schema.schema._schema
REGION_CODES = ["440000", "440300", "110000", "510000", "440106"]
KEYWORDS = ["工", "张", "有限", "员"]
MAX_DEPTH = 3


@dataclass
class Generator:
    rng: random.Random
    ids: list[str]
    fragments: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    variable_definitions: list[str] = field(default_factory=list)

    def operation(self) -> tuple[str, dict[str, Any]]:
        roots = [self.root() for _ in range(self.rng.choice([1, 1, 1, 2]))]
        definitions = f"({', '.join(self.variable_definitions)})" if self.variables else ""
        text = f"query Generated{definitions} {{ {' '.join(roots)} }} {' '.join(self.fragments)}"
        return text, self.variables

    def alias(self, name: str) -> str:
        return f"{name}_{self.rng.randrange(1000)}: {name}" if self.rng.random() < 0.2 else name

    def root(self) -> str:
        query = GRAPHQL.query_type
        assert query is not None
        lists = [n for n, f in query.fields.items() if "filter" in f.args]
        choice = self.rng.choice([*lists, *lists, "node", "nodes", "__typename"])
        if choice == "__typename":
            return "__typename"
        if choice == "node":
            given = json.dumps(self.rng.choice(self.ids))
            if self.rng.random() < 0.5:  # by a variable: one plan per type the ID names
                given = f"$n{len(self.variables)}"
                self.variables[given[1:]] = self.rng.choice(self.ids)
                self.variable_definitions.append(f"{given}: ID!")
            return f"{self.alias('node')}(id: {given}) {{ {self.on_node()} }}"
        if choice == "nodes":
            ids = ", ".join(f'"{i}"' for i in self.rng.sample(self.ids, 3))
            return f"{self.alias('nodes')}(ids: [{ids}]) {{ {self.on_node()} }}"
        root = query.fields[choice]
        order = self.order(root)
        arguments = [
            *self.paging(self.ordering_of(root, order), root=True), *self.filter(root), *order
        ]
        inner = self.connection(get_named_type(root.type), 1)
        return f"{self.alias(choice)}({', '.join(arguments)}) {{ {inner} }}"

    def on_node(self) -> str:
        types = [t for t in GRAPHQL.type_map.values() if isinstance(t, GraphQLObjectType)
                 and any(i.name == "Node" for i in t.interfaces)]
        parts = ["id", "__typename"]
        for object_type in self.rng.sample(types, 3):
            parts.append(f"... on {object_type.name} {{ {self.object(object_type, 1)} }}")
        return " ".join(parts)

    def paging(self, ordering: Ordering | None = None, root: bool = False) -> list[str]:
        size = self.rng.randint(0, 6)
        chosen = [self.rng.choice([f"first: {size}", f"last: {size}", ""])]
        if ordering is not None and self.rng.random() < 0.3:
            cursor = json.dumps(self.cursor(ordering))
            if root and self.rng.random() < 0.5:  # by a variable: one plan per ordering
                name = f"c{len(self.variables)}"
                self.variables[name] = json.loads(cursor)
                self.variable_definitions.append(f"${name}: String")
                cursor = f"${name}"
            if chosen[0].startswith("last") or self.rng.random() < 0.3:
                chosen.append(f"before: {cursor}")
            else:
                chosen.append(f"after: {cursor}")
        return [part for part in chosen if part]

    def ordering_of(self, root: GraphQLField, order: list[str]) -> Ordering | None:
        """The ordering a root list is read in (its first ordering, descending, unless
        `order` chose another)."""
        entity = declaration_of(root)
        if not isinstance(entity, Entity) or not entity.orderings:
            return None
        if not order:
            return entity.ordering(next(iter(entity.orderings)), descending=True)
        member, direction = order[0].split("field: ")[1].rstrip("}").split(", direction: ")
        return entity.ordering(member, descending=direction == "DESC")

    def cursor(self, ordering: Ordering) -> str:
        """A cursor such a list could make (sometimes one it could not: errors must match)."""
        if self.rng.random() < 0.1:
            return self.rng.choice(["bm90IGEgY3Vyc29y", "WyJ4IiwgIjEiLCAxXQ==", ""])
        sample = {
            datetime: "2026-03-01T08:00:00+00:00", date: "2026-03-01", Decimal: "6000.00",
            int: "5", str: self.rng.choice(["张", "202401", "m"]),
        }
        value = sample[ordering.column.type.python_type]
        name = ordering.name if self.rng.random() < 0.9 else "id:asc"
        raw = json.dumps([name, value, self.rng.randint(1, 400)], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def filter(self, root: GraphQLField) -> list[str]:
        if self.rng.random() < 0.5:
            return []
        filter_type = get_named_type(root.args["filter"].type)
        assert isinstance(filter_type, GraphQLInputObjectType)
        values = {}
        for name, input_field in filter_type.fields.items():
            value = self.filter_value(name, get_named_type(input_field.type))
            if value is not None and self.rng.random() < 0.3:
                values[name] = value
        if self.rng.random() < 0.5:
            name = f"f{len(self.variables)}"
            self.variables[name] = {k: json.loads(v) for k, v in values.items()}
            self.variable_definitions.append(f"${name}: {filter_type.name}")
            return [f"filter: ${name}"]
        given = []
        for key, value in values.items():
            if self.rng.random() < 0.3:  # one field by a variable
                name = f"v{len(self.variables)}"
                self.variables[name] = json.loads(value)
                type_name = get_named_type(filter_type.fields[key].type).name
                self.variable_definitions.append(f"${name}: {type_name}")
                given.append(f"{key}: ${name}")
            else:
                given.append(f"{key}: {_literal(value)}")
        return [f"filter: {{{', '.join(given)}}}"]

    def filter_value(self, name: str, named: Any) -> str | None:
        """A JSON value for a filter field, or None to leave it out."""
        if isinstance(named, GraphQLEnumType):
            return json.dumps(self.rng.choice(list(named.values)))
        if named.name == "Boolean":
            return json.dumps(self.rng.random() < 0.5)
        if name.endswith("egionCode"):
            return json.dumps(self.rng.choice(REGION_CODES))
        if name == "keyword":
            return json.dumps(self.rng.choice(KEYWORDS))
        return None

    def order(self, root: GraphQLField) -> list[str]:
        if self.rng.random() < 0.5:
            return []
        order_type = get_named_type(root.args["orderBy"].type)
        assert isinstance(order_type, GraphQLInputObjectType)
        members = get_named_type(order_type.fields["field"].type)
        assert isinstance(members, GraphQLEnumType)
        direction = self.rng.choice(["ASC", "DESC"])
        return [f"orderBy: {{field: {self.rng.choice(list(members.values))}, "
                f"direction: {direction}}}"]

    def connection(self, connection: Any, depth: int) -> str:
        node_type = get_named_type(connection.fields["nodes"].type)
        parts = []
        if self.rng.random() < 0.5:
            parts.append("totalCount")
        if self.rng.random() < 0.4:
            info = ["hasNextPage", "hasPreviousPage"] + [
                cursor for cursor in ("startCursor", "endCursor") if self.rng.random() < 0.2
            ]
            parts.append(f"pageInfo {{ {' '.join(info)} }}")
        inner = self.object(node_type, depth + 1)
        if self.rng.random() < 0.5:
            cursor = "cursor " if self.rng.random() < 0.2 else ""
            parts.append(f"edges {{ {cursor}node {{ {inner} }} }}")
        else:
            parts.append(f"nodes {{ {inner} }}")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        return " ".join(parts)

    def object(self, object_type: Any, depth: int) -> str:
        parts = []
        for name, object_field in object_type.fields.items():
            named = get_named_type(object_field.type)
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                if not object_field.args and self.rng.random() < 0.4:
                    parts.append(self.alias(name))
            elif depth < MAX_DEPTH and self.rng.random() < 0.3:
                parts.append(self.nested(name, object_field, named, depth))
        if not parts or self.rng.random() < 0.2:
            parts.append("__typename")
        text = " ".join(parts)
        if self.rng.random() < 0.15:
            fragment = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {fragment} on {object_type.name} {{ {text} }}")
            return f"...{fragment}"
        return text

    def nested(self, name: str, object_field: GraphQLField, named: Any, depth: int) -> str:
        if named.name.endswith("Connection"):
            relation = declaration_of(object_field)
            paging = self.paging(relation.order if isinstance(relation, ToMany) else None)
            arguments = f"({', '.join(paging)})" if paging else ""
            return f"{self.alias(name)}{arguments} {{ {self.connection(named, depth)} }}"
        return f"{self.alias(name)} {{ {self.object(named, depth + 1)} }}"


def _literal(json_value: str) -> str:
    value = json.loads(json_value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.isupper():
        return value  # an enum member
    return json.dumps(value, ensure_ascii=False)


def operations(seed: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
    rng = random.Random(seed)
    for index in range(OPERATIONS):
        generator = Generator(random.Random(rng.getrandbits(64)), IDS)
        text, variables = generator.operation()
        yield index, text, variables


IDS: list[str] = []


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    found = await find_subjects(gql)
    data = await gql.ok(
        """{ jobs(first: 5) { nodes { id } } workers(first: 5) { nodes { id } }
             employers(first: 3) { nodes { id } } placements(first: 3) { nodes { id } }
             insuranceRecords(first: 3) { nodes { id } } regions { id } }"""
    )
    IDS[:] = [
        node["id"] for key in ("jobs", "workers", "employers", "placements", "insuranceRecords")
        for node in data[key]["nodes"]
    ] + [r["id"] for r in data["regions"][:3]] + ["Sm9iOjk5OTk5OTk5OQ=="]  # Job:999999999
    return found


@pytest.fixture(scope="module")
async def partner_keys(engine: AsyncEngine, settings: Settings) -> AsyncIterator[dict[str, str]]:
    """Two partner keys for every root field in two provinces: one whose purpose every
    worker consented to, one whose purpose nobody did."""
    consented, unconsented = (f"diff-{uuid.uuid4().hex[:12]}" for _ in range(2))
    query = GRAPHQL.query_type
    assert query is not None
    vault = PersonalDataVault(settings.master_key())
    keys = {
        role: await create_api_key(
            engine, vault, partner="differential-test", scopes=list(query.fields),
            regions=["440000", "110000"], purpose=purpose,
        )
        for role, purpose in (("partner", consented), ("partner-unconsented", unconsented))
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
        "admin": bearer(settings, "admin"),
        **{role: {"x-api-key": key} for role, key in partner_keys.items()},
        # After the first worker and employer: these run on the plans compiled for them,
        # their own ids set as the plans' parameters (server.compiled_reads).
        "another worker": bearer(settings, "worker", worker_id=subjects.other_worker),
        "another employer": bearer(settings, "employer", employer_id=subjects.other_employer),
    }


async def test_compiled_reads_answer_what_the_resolvers_answer(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    subjects: Subjects, partner_keys: dict[str, str], engine: AsyncEngine,
    pytestconfig: pytest.Config,
) -> None:
    seed = pytestconfig.getoption("seed") or DEFAULT_SEED
    roles = role_headers(settings, subjects, partner_keys)
    paths: list[str] = []  # each answer's X-Read-Path
    roots: list[str] = []  # the path of each root field answered
    audits = Audits(engine)
    for index, text, variables in operations(seed):
        for role, headers in roles.items():
            where = f"seed {seed}, operation {index} as {role}:\n{text}\n{json.dumps(variables)}"
            await audits.mark()
            compiled = await GraphQLClient(http, headers)(text, variables)
            compiled_audit = await audits.since_mark()
            resolved = await GraphQLClient(http_resolvers, headers)(text, variables)
            resolved_audit = await audits.since_mark()
            if role.startswith("partner"):
                shown = _personal_ids(compiled.body.get("data"))
                # Every personal row shown with its ID is audited; the compiled path audits no
                # row the resolver path does not (which also audits rows it read but did not
                # show, such as the page behind a lone totalCount).
                assert shown <= compiled_audit, f"{where}\nnot audited: {shown - compiled_audit}"
                assert compiled_audit <= resolved_audit, (
                    f"{where}\naudited only when compiled: {compiled_audit - resolved_audit}"
                )
            paths.append(compiled.headers.get("x-read-path", ""))
            read_paths = (compiled.body.get("extensions") or {}).pop("readPaths", None)
            if compiled.body.get("extensions") == {}:
                del compiled.body["extensions"]
            roots.extend((read_paths or {}).values())
            assert (compiled.status, _masked(compiled.body)) == (
                resolved.status, _masked(resolved.body)
            ), where
    compiled_share = paths.count("compiled") / len(paths)
    mixed_share = paths.count("compiled+resolvers") / len(paths)
    root_share = roots.count("compiled") / len(roots)
    print(f"compiled: {compiled_share:.0%} of {len(paths)} answers wholly, {mixed_share:.0%} "
          f"in part; {root_share:.0%} of {len(roots)} root fields")
    assert compiled_share > 0.4, f"only {compiled_share:.0%} of operations were compiled"
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


PERSONAL = personal_data_types()


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
    subjects: Subjects,
) -> None:
    """`node(id: $id)` compiles once per type the ID names: the key is a parameter."""
    query = "query One($id: ID!) { node(id: $id) { id ... on Job { title status } } }"
    headers = bearer(settings, "admin")
    for job_id in [*IDS[:5], "Sm9iOjk5OTk5OTk5OQ=="]:
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
