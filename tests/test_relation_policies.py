"""Policies agree along relations: a target the viewer may not see is null, never an error.

Both checks are generated from the schema and the row policies, so a new relation is covered
without anyone adding it here:

- statically, a to-one relation is non-null only when its target's rows are shown to every
  viewer (reference data, employers);
- by running it, every relation field of every node type, for every role, over the seeded
  rows (and the hidden-target cases they hold: applications to jobs a partner may not see).
"""

from __future__ import annotations

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
from sqlalchemy import select

import schema
from db.session import create_engine
from resolvers.agreements import is_structural
from resolvers.catalog import CATALOG, shows_every_row
from resolvers.global_ids import encode_global_id
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.subjects import Subjects, find_subjects

GRAPHQL = schema.schema._schema
IDS_PER_REQUEST = 100
SAMPLE_OF_PUBLIC_ROWS = 200  # rows every viewer sees can't hide a relation's target


def _object_type(name: str) -> GraphQLObjectType:
    named = GRAPHQL.type_map[name]
    assert isinstance(named, GraphQLObjectType), named
    return named


def _object_types() -> Iterator[GraphQLObjectType]:
    roots = {GRAPHQL.query_type, GRAPHQL.mutation_type}
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
async def partner_key(
    settings: Settings, database_url: str, subjects: Subjects
) -> AsyncIterator[str]:
    """A partner whose agreement covers every root field and type, with every worker's
    consent to its (unique) purpose; the consents are removed and the key revoked after."""
    roots = [*_object_type("Query").fields, *_object_type("Mutation").fields]
    async with consented_partner_key(
        settings, database_url, partner="relation-test-agency", scopes=roots,
        regions=subjects.provinces, types=sorted(entity.name for entity in CATALOG),
    ) as key:
        yield key


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


async def _global_ids(database_url: str, type_name: str) -> list[str]:
    """Every row's global ID; a sample for tables whose rows every viewer sees."""
    entity = CATALOG.entity(type_name)
    key = entity.key
    assert key is not None
    statement = select(key).order_by(key)
    if shows_every_row(entity):
        statement = statement.limit(SAMPLE_OF_PUBLIC_ROWS)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            keys = (await connection.execute(statement)).scalars().all()
    finally:
        await engine.dispose()
    return [encode_global_id(type_name, k) for k in keys]


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
async def test_every_relation_answers_every_role_without_errors(
    type_name: str, roles: dict[str, GraphQLClient], database_url: str
) -> None:
    owner = _object_type(type_name)
    query = (
        "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on "
        f"{type_name} {{ {_relations(owner)} }} }} }}"
    )
    ids = await _global_ids(database_url, type_name)
    assert ids, f"the seed has no {type_name}"
    hidden: dict[str, int] = {}
    for start in range(0, len(ids), IDS_PER_REQUEST):
        chunk = ids[start : start + IDS_PER_REQUEST]
        everything = (await roles["admin"].ok(query, {"ids": chunk}))["nodes"]
        for role, client in roles.items():
            result = await client(query, {"ids": chunk})
            assert result.status == 200 and not result.errors, (role, result.errors[:3])
            hidden[role] = hidden.get(role, 0) + _hidden_targets(
                result.data["nodes"], everything
            )
    if type_name == "Application":  # the seed holds applications to jobs that aren't public
        assert hidden["partner"] > 0, "no hidden target was exercised"


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
