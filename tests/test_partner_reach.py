"""A partner's agreement bounds the types its key reaches, on every path, before any SQL."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import httpx
import pytest
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncEngine

import schema
from db.pii import PersonalDataVault
from resolvers.agreements import is_structural
from resolvers.catalog import CATALOG, Catalog, personal_data_types
from server.auth import create_api_key, list_api_keys
from server.settings import Settings
from tests.conftest import GraphQLClient, GraphQLResponse
from tests.partners import every_worker_consenting

APPLICANTS = "{ jobs(first: 100) { nodes { applications { nodes { worker { name } } } } } }"


@pytest.fixture(scope="module")
async def purpose(engine: AsyncEngine) -> AsyncIterator[str]:
    """A purpose of this module's own that every worker consented to (removed after)."""
    purpose = f"reach-{uuid.uuid4().hex[:12]}"
    async with every_worker_consenting(engine, purpose):
        yield purpose


@pytest.fixture(scope="module")
async def provinces(gql: GraphQLClient) -> list[str]:
    return [r["code"] for r in (await gql.ok("{ regions { code } }"))["regions"]]


class MakePartner(Protocol):
    """The client of a new partner key with these scopes (and types or fields), reaching
    every province for the module's consented purpose."""

    async def __call__(
        self, scopes: Sequence[str], types: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> GraphQLClient: ...


@pytest.fixture
def partner(
    http: httpx.AsyncClient, engine: AsyncEngine, settings: Settings, purpose: str,
    provinces: list[str],
) -> MakePartner:
    async def make(
        scopes: Sequence[str], types: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> GraphQLClient:
        key = await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner="reach-test-agency",
            scopes=scopes, regions=provinces, fields=fields, types=types, purpose=purpose,
        )
        return GraphQLClient(http, {"x-api-key": key})

    return make


def refused(result: GraphQLResponse, type_name: str) -> None:
    assert result.data is None, result.body
    [error] = result.errors
    assert "extensions" in error, error
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert f"does not reach the type '{type_name}'" in error["message"]
    assert result.statements == 0, "refused before any SQL"


async def test_a_jobs_key_reaches_no_applicant_through_jobs(partner: MakePartner) -> None:
    jobs_only = await partner(["jobs"])
    refused(await jobs_only(APPLICANTS), "Application")
    refused(await jobs_only("{ jobs { nodes { applications { totalCount } } } }"), "Application")
    works = await jobs_only("{ jobs(first: 5) { nodes { title employer { region { code } } } } }")
    assert works.status == 200 and not works.errors and works.data["jobs"]["nodes"]


async def test_named_types_reach_applicants_with_consent(partner: MakePartner) -> None:
    matching = await partner(["jobs"], types=["Application", "Worker"])
    data = await matching.ok(APPLICANTS)
    names = [
        a["worker"]["name"]
        for job in data["jobs"]["nodes"] for a in job["applications"]["nodes"] if a["worker"]
    ]
    assert names and all(names)
    refused(
        await matching("{ jobs { nodes { applications { nodes { worker {"
                       " insuranceRecords { totalCount } } } } } } }"),
        "InsuranceRecord",
    )


async def test_fragments_on_types_not_reached_are_refused(
    gql: GraphQLClient, partner: MakePartner
) -> None:
    worker = (await gql.ok("{ workers(first: 1) { nodes { id } } }"))["workers"]["nodes"][0]["id"]
    lookups = await partner(["jobs", "node", "nodes"])
    variables = {"id": worker}
    refused(
        await lookups("query ($id: ID!) { node(id: $id) { ... on Worker { name } } }", variables),
        "Worker",
    )
    refused(
        await lookups(
            "query ($id: ID!) { nodes(ids: [$id]) { ...W } } fragment W on Worker { name }",
            variables,
        ),
        "Worker",
    )
    # Without a fragment, the ID of a type the key does not reach finds nothing.
    bare = await lookups(
        "query ($id: ID!) { node(id: $id) { id __typename } nodes(ids: [$id]) { id } }",
        variables,
    )
    assert bare.status == 200 and not bare.errors
    assert bare.data == {"node": None, "nodes": [None]}


async def test_a_field_allowlist_reaches_only_types_without_personal_data(
    partner: MakePartner,
) -> None:
    trainings = "{ jobs(first: 5) { nodes { employer { trainings { nodes { title } } } } } }"
    refused(await (await partner(["jobs"]))(trainings), "Training")
    listed = await partner(["jobs"], fields=["Job.employer", "Employer.trainings",
                                              "Training.title"])
    assert not (await listed(trainings)).errors
    # Naming a worker's field does not reach the worker: that takes a scope or `types`.
    personal = await partner(["jobs"], fields=["Job.*", "Application.*", "Worker.name"])
    refused(await personal(APPLICANTS), "Application")


async def test_reads_of_every_personal_data_type_are_audited_with_their_ids(
    gql: GraphQLClient, partner: MakePartner
) -> None:
    reader = await partner(["workers"], types=["JobIntention", "WorkerSkill"])
    data = await reader.ok(
        """query Intentions { workers(first: 100) { nodes { id jobIntentions { id }
             skills { level } } } }"""
    )
    workers = data["workers"]["nodes"]
    intentions = {i["id"] for w in workers for i in w["jobIntentions"]}
    assert intentions and any(w["skills"] for w in workers)
    audit = await gql.ok(
        """{ auditEvents(first: 1, filter: {operation: "partnerRead:Intentions"}) {
             nodes { recordIds sensitiveFields } } }"""
    )
    [event] = audit["auditEvents"]["nodes"]
    assert intentions <= set(event["recordIds"])
    assert {w["id"] for w in workers} <= set(event["recordIds"])
    assert {"JobIntention.id", "WorkerSkill.level"} <= set(event["sensitiveFields"])


async def test_keys_name_known_types_only(engine: AsyncEngine, partner: MakePartner) -> None:
    with pytest.raises(ValueError, match=r"^type 'Wrker' is not a type an agreement can name \("):
        await partner(["jobs"], types=["Wrker"])
    await partner(["jobs"], types=[" Worker", "Worker", "Application"])
    newest = max(await list_api_keys(engine), key=lambda info: info.id)
    assert newest.types == ("Worker", "Application")
    assert newest.grant is not None and newest.grant.types == {"Worker", "Application"}


def test_every_object_type_of_the_schema_is_declared_with_its_table() -> None:
    graphql = schema.schema._schema
    data_types = {
        t.name for t in graphql.type_map.values()
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
        and not is_structural(t)
        and t not in (graphql.query_type, graphql.mutation_type, graphql.subscription_type)
    }
    assert data_types == {entity.name for entity in CATALOG}


def test_personal_data_types_are_the_worker_what_belongs_to_a_worker_and_the_audit() -> None:
    workers = CATALOG.entity("Worker").table
    belongs = {
        entity.name for entity in CATALOG
        if entity.table is workers
        or any(key.column.table is workers for key in entity.table.foreign_keys)
    }
    assert personal_data_types() == belongs | {"AuditEvent"}
    assert {"Worker", "Application", "WorkerSkill", "Consent"} <= belongs
    assert {entity.name for entity in CATALOG} - personal_data_types() >= {
        "Employer", "Industry", "Job", "Occupation", "Region", "Skill", "Training",
    }


def test_a_table_that_belongs_to_a_worker_cannot_be_declared_without_personal_data() -> None:
    catalog = Catalog()
    skills = CATALOG.entity("WorkerSkill")
    catalog.add(dataclasses.replace(skills, personal=False, audited_as=None, relations=()))
    with pytest.raises(ValueError, match="declare it personal"):
        catalog.seal()
