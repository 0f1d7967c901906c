"""Policies agree along relations: a target the viewer may not see is null, never an error,
and what a relation shows each role is what the oracle (tests/visibility.py) gives it.

The checks are generated from the schema and the declarations, so a new relation is covered
without anyone adding it here:

- statically, a to-one relation is non-null only when its target's rows are shown to every
  viewer (reference data, employers);
- by running it, every relation field of every node type, for every role, over the seeded
  rows (and the hidden-target cases they hold: applications to jobs a partner may not see),
  each answer held to the oracle's rows;
- per role, the rows of a worker's records (enrollments, job intentions, skills) it sees
  through every relation that leads to them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_list_type,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import schema
from resolvers.agreements import is_structural
from resolvers.catalog import CATALOG, shows_every_row
from resolvers.global_ids import decode_int_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.subjects import Subjects, find_subjects
from tests.visibility import RULES, Agreement, Viewer
from tests.visibility_cast import Cast, casting
from tests.visibility_probes import (
    Asker,
    check_answer,
    check_relation,
    global_id,
    links,
    relations,
    sample,
    sight_of,
)

GRAPHQL = schema.schema._schema
IDS_PER_REQUEST = 100
SAMPLE_OF_PUBLIC_ROWS = 200  # rows every viewer sees can't hide a relation's target


def _object_type(name: str) -> GraphQLObjectType:
    named = GRAPHQL.type_map[name]
    assert isinstance(named, GraphQLObjectType), named
    return named


def _object_types() -> Iterator[GraphQLObjectType]:
    roots = {GRAPHQL.query_type, GRAPHQL.mutation_type, GRAPHQL.subscription_type}
    for named in GRAPHQL.type_map.values():
        if isinstance(named, GraphQLObjectType) and named not in roots and not (
            named.name.startswith("__") or is_structural(named)
        ):
            yield named


def _is_node(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and any(
        i.name == "Node" for i in named.interfaces
    )


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= set(named.fields)


def _selection(named: GraphQLNamedType, depth: int = 0) -> str:
    """What to select of a relation's target: its id, or its own relations when it has none."""
    if _is_connection(named):
        return "{ totalCount nodes { id } }"
    if _is_node(named) or isinstance(named, GraphQLInterfaceType):
        return "{ id }"
    assert isinstance(named, GraphQLObjectType) and depth < 3, named
    return "{ __typename " + _relations(named, depth + 1) + " }"


def _relation_fields(owner: GraphQLObjectType) -> dict[str, GraphQLNamedType]:
    return {
        name: get_named_type(field.type)
        for name, field in owner.fields.items()
        if isinstance(get_named_type(field.type), GraphQLObjectType | GraphQLInterfaceType)
    }


def _relations(owner: GraphQLObjectType, depth: int = 0) -> str:
    return " ".join(
        f"{name} {_selection(target, depth)}" for name, target in _relation_fields(owner).items()
    )


NODE_TYPES_WITH_RELATIONS = sorted(
    t.name for t in _object_types() if _is_node(t) and _relation_fields(t)
)


# --- statically: nullability follows the target's row policy --------------------------------


def test_a_to_one_relation_is_non_null_only_when_every_viewer_sees_its_target() -> None:
    wrong = [
        f"{owner.name}.{name}: {field.type}"
        for owner in _object_types()
        for name, field in owner.fields.items()
        if isinstance(field.type, GraphQLNonNull)
        and not is_list_type(field.type.of_type)
        and (target := CATALOG.find(get_named_type(field.type).name)) is not None
        and not shows_every_row(target)
    ]
    assert wrong == [], "make these nullable: some viewers may not see the target"


def test_the_generated_queries_cover_the_known_relations() -> None:
    queried = {t: _relations(_object_type(t)) for t in NODE_TYPES_WITH_RELATIONS}
    assert "job { id }" in queried["Application"]
    assert "training { id }" in queried["Enrollment"]
    assert "skills { __typename skill { id } }" in queried["Worker"]
    assert "applications { totalCount nodes { id } }" in queried["Job"]


# --- by running it: every relation, every role -----------------------------------------------


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    return await find_subjects(gql)


@pytest.fixture(scope="module")
def partner(subjects: Subjects) -> Viewer:
    """A partner whose agreement covers every root field and type in every province, for a
    purpose of its own."""
    roots = [*_object_type("Query").fields, *_object_type("Mutation").fields]
    agreement = Agreement(
        frozenset(roots), tuple(subjects.provinces), f"relation-test-{uuid.uuid4().hex[:12]}",
        frozenset(entity.name for entity in CATALOG),
    )
    return Viewer("partner", "partner", agreement=agreement)


@pytest.fixture(scope="module")
async def partner_key(
    settings: Settings, database_url: str, partner: Viewer
) -> AsyncIterator[str]:
    """The partner's key, with every worker's consent to its purpose; the consents are
    removed and the key revoked after."""
    agreement = partner.agreement
    assert agreement is not None
    async with consented_partner_key(
        settings, database_url, partner="relation-test-agency", scopes=sorted(agreement.scopes),
        regions=agreement.regions, types=sorted(agreement.types), purpose=agreement.purpose,
    ) as key:
        yield key


@pytest.fixture(scope="module")
def viewers(subjects: Subjects, partner: Viewer) -> dict[str, Viewer]:
    """The roles, as the oracle (tests/visibility.py) knows them: each token role by the
    principal its tokens make (`bearer`'s subject `test-<role>`), whose records (job reports)
    other tests may have made too."""
    return {
        "anonymous": Viewer("anonymous", "anonymous"),
        "worker": Viewer(
            "worker", "worker", worker_id=_key(subjects.worker, "Worker"),
            principal="worker:test-worker",
        ),
        "employer": Viewer(
            "employer", "employer", employer_id=_key(subjects.employer, "Employer"),
            principal="employer:test-employer",
        ),
        "staff": Viewer("staff", "staff", division=subjects.province, principal="staff:test-staff"),
        "partner": partner,
        "admin": Viewer("admin", "admin", principal="admin:test-admin"),
    }


def _key(global_id: str, type_name: str) -> int:
    return decode_int_id(global_id, type_name, "id")


@pytest.fixture(scope="module")
def roles(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings, subjects: Subjects,
    http: httpx.AsyncClient, partner_key: str,
) -> dict[str, GraphQLClient]:
    return {
        "anonymous": anonymous,
        "worker": gql.as_(bearer(settings, "worker", worker_id=subjects.worker)),
        "employer": gql.as_(bearer(settings, "employer", employer_id=subjects.employer)),
        "staff": gql.as_(bearer(settings, "staff", region=subjects.province)),
        "partner": GraphQLClient(http, {"x-api-key": partner_key}),
        "admin": gql,
    }


def _hidden_targets(
    seen: list[dict[str, Any] | None], everything: list[dict[str, Any]]
) -> int:
    """How many relations the admin sees answered null to this role on a visible parent."""
    return sum(
        value is None and everything[i][name] is not None
        for i, node in enumerate(seen) if node is not None
        for name, value in node.items()
    )


@pytest.mark.parametrize("type_name", NODE_TYPES_WITH_RELATIONS)
async def test_every_relation_shows_every_role_the_rows_the_oracle_gives_it(
    type_name: str, roles: dict[str, GraphQLClient], viewers: dict[str, Viewer],
    engine: AsyncEngine,
) -> None:
    """Every relation field of every object of the type, asked by every role, answers
    without errors and shows the role exactly the rows tests/visibility.py says (pages of
    the default size, their totalCount, small lists, to-one targets or null)."""
    owner = _object_type(type_name)
    query = (
        "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on "
        f"{type_name} {{ {_relations(owner)} }} }} }}"
    )
    fields = [r for r in relations() if r.parent == type_name and r.kind != "count"]
    types = {type_name, *(r.target for r in fields)}
    async with engine.connect() as connection:
        sights = {role: await sight_of(connection, v, types) for role, v in viewers.items()}
        linked = {relation: await links(connection, relation) for relation in fields}
    every = sights["admin"].every[type_name]
    keys = sample(every, SAMPLE_OF_PUBLIC_ROWS) if RULES[type_name].is_public else sorted(every)
    assert keys, f"the seed has no {type_name}"
    hidden: dict[str, int] = {}
    shown = dict.fromkeys(roles, 0)
    for start in range(0, len(keys), IDS_PER_REQUEST):
        chunk = keys[start : start + IDS_PER_REQUEST]
        ids = [global_id(type_name, key) for key in chunk]
        everything = (await roles["admin"].ok(query, {"ids": ids}))["nodes"]
        for role, client in roles.items():
            result = await client(query, {"ids": ids})
            assert result.status == 200 and not result.errors, (role, result.errors[:3])
            hidden[role] = hidden.get(role, 0) + _hidden_targets(
                result.data["nodes"], everything
            )
            sight = sights[role]
            for key, node in zip(chunk, result.data["nodes"], strict=True):
                assert (node is not None) == (key in sight.through_node(type_name)), (role, key)
                for relation in fields if node is not None else []:
                    shown[role] += len(check_answer(
                        sight, relation, key, node[relation.field], linked[relation],
                        DEFAULT_PAGE_SIZE,
                    ))
    if fields:
        assert shown["admin"] > 0, f"no {type_name} relation showed a row"
    if type_name == "Application":  # the seed holds applications to jobs that aren't public
        assert hidden["partner"] > 0, "no hidden target was exercised"


@pytest.fixture(scope="module")
async def cast(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Cast]:
    async with casting(engine, settings) as found:
        yield found


# One viewer of each role, whose records the seed has (tests/visibility_cast.py).
ONE_OF_EACH_ROLE = (
    "anonymous", "worker-a", "employer-a", "staff-province-41", "partner-consented-b", "admin",
)


@pytest.mark.parametrize(
    "type_name", ["Enrollment", "JobIntention", "WorkerSkill", "SkillSurvey"]
)
async def test_each_role_sees_a_workers_records_as_the_readme_says(
    type_name: str, cast: Cast, engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    """Through every relation that leads to a worker's records, each role sees exactly the
    rows the oracle gives it: anonymous callers none, a worker their own, an admin every
    one, an employer, staff and a consented partner some but not all; an employer no skill
    survey of its applicants."""
    leading = [r for r in relations() if r.target == type_name and r.kind != "count"]
    assert leading, f"no relation leads to {type_name}"
    types = {type_name, *(r.parent for r in leading)}
    rows = RULES[type_name]
    async with engine.connect() as connection:
        linked = {relation: await links(connection, relation) for relation in leading}
        own = await connection.execute(
            text(f"SELECT {', '.join(rows.key)} FROM {rows.table} WHERE worker_id = :worker"),
            {"worker": cast.viewers["worker-a"].worker_id},
        )
        own_rows = {tuple(row) for row in own}
        sights = {
            name: await sight_of(connection, cast.viewers[name], types)
            for name in ONE_OF_EACH_ROLE
        }
    every = {leading[0].identity.of_row(key) for key in sights["admin"].every[type_name]}
    for name, sight in sights.items():
        asker = Asker(GraphQLClient(http, cast.headers[name]))
        shown = set[object]().union(
            *[await check_relation(asker, sight, r, linked[r]) for r in leading]
        )
        role = sight.viewer.role
        if role == "anonymous" or (role, type_name) == ("employer", "SkillSurvey"):
            assert shown == set(), name
        elif role == "worker":
            assert own_rows and shown == {leading[0].identity.of_row(k) for k in own_rows}
        elif role == "admin":
            assert shown == every, name
        else:
            assert set() < shown < every, name


async def test_a_partner_sees_an_application_whose_job_it_may_not_see(
    roles: dict[str, GraphQLClient], subjects: Subjects
) -> None:
    """The case the review found: a consented worker's application to an expired job."""
    data = await roles["admin"].ok(
        """{ jobs(first: 100, filter: {status: EXPIRED}) { nodes {
               applications(first: 1) { nodes { worker { id } } } } } }"""
    )
    worker = next(
        j["applications"]["nodes"][0]["worker"]["id"]
        for j in data["jobs"]["nodes"] if j["applications"]["nodes"]
    )
    query = """query ($id: ID!) { node(id: $id) { ... on Worker {
                 applications(first: 100) { nodes { id job { id status } } } } } }"""
    seen = await roles["partner"](query, {"id": worker})
    assert seen.status == 200 and not seen.errors, seen.errors
    jobs = [a["job"] for a in seen.data["node"]["applications"]["nodes"]]
    assert None in jobs and all(j is None or j["status"] == "PUBLISHED" for j in jobs)
