"""Placements (就业安置): listed, filtered, related and shown to each viewer by their policy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key

PLACEMENTS = """query ($first: Int, $filter: PlacementFilter, $order: PlacementOrder) {
  placements(first: $first, filter: $filter, orderBy: $order) {
    totalCount
    nodes {
      id startedOn endedOn monthlyWage
      worker { id }
      job { id title employer { id } }
      application { id status }
    }
  }
}"""


@pytest.fixture(scope="module")
async def placed(gql: GraphQLClient) -> list[dict[str, Any]]:
    """Every placement as the admin sees it, latest start first."""
    data = await gql.ok(PLACEMENTS, {"first": 100})
    nodes: list[dict[str, Any]] = data["placements"]["nodes"]
    assert data["placements"]["totalCount"] == len(nodes) > 0
    return nodes


def test_placements_come_latest_start_first_and_from_hired_applications(
    placed: list[dict[str, Any]],
) -> None:
    starts = [p["startedOn"] for p in placed]
    assert starts == sorted(starts, reverse=True)
    from_applications = [p for p in placed if p["application"] is not None]
    assert from_applications and len(from_applications) < len(placed)
    assert {p["application"]["status"] for p in from_applications} == {"HIRED"}


async def test_a_placement_is_a_node_and_hangs_off_its_job(
    gql: GraphQLClient, placed: list[dict[str, Any]]
) -> None:
    first = placed[0]
    again = await gql.ok(
        "query ($id: ID!) { node(id: $id) { ... on Placement { id startedOn } } }",
        {"id": first["id"]},
    )
    assert again["node"] == {"id": first["id"], "startedOn": first["startedOn"]}
    job = await gql.ok(
        "query ($id: ID!) { node(id: $id) { ... on Job { placements(first: 100) { "
        "totalCount nodes { id } } } } }",
        {"id": first["job"]["id"]},
    )
    ids = [p["id"] for p in job["node"]["placements"]["nodes"]]
    assert first["id"] in ids
    assert job["node"]["placements"]["totalCount"] == len(ids)


async def test_filters_narrow_and_say_which_argument_is_wrong(
    gql: GraphQLClient, placed: list[dict[str, Any]]
) -> None:
    running = await gql.ok(PLACEMENTS, {"first": 100, "filter": {"ended": False}})
    nodes = running["placements"]["nodes"]
    assert nodes and all(p["endedOn"] is None for p in nodes)
    assert len(nodes) < len(placed)
    worker = placed[0]["worker"]["id"]
    own = await gql.ok(PLACEMENTS, {"first": 100, "filter": {"workerId": worker}})
    assert {p["worker"]["id"] for p in own["placements"]["nodes"]} == {worker}

    backwards = await gql(
        PLACEMENTS, {"filter": {"startedAfter": "2026-02-01", "startedBefore": "2026-01-01"}}
    )
    assert backwards.errors[0]["extensions"]["argument"] == "filter.startedAfter"
    not_a_worker = await gql(PLACEMENTS, {"filter": {"workerId": placed[0]["job"]["id"]}})
    assert not_a_worker.errors[0]["extensions"]["argument"] == "filter.workerId"
    assert not_a_worker.data is None


async def test_each_viewer_sees_the_placements_its_policy_allows(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    placed: list[dict[str, Any]],
) -> None:
    nobody = await anonymous.ok(PLACEMENTS, {"first": 100})
    assert nobody["placements"] == {"totalCount": 0, "nodes": []}

    worker_gid = placed[0]["worker"]["id"]
    worker = gql.as_(bearer(settings, "worker", worker_id=worker_gid))
    mine = (await worker.ok(PLACEMENTS, {"first": 100}))["placements"]["nodes"]
    assert mine and {p["worker"]["id"] for p in mine} == {worker_gid}
    assert len(mine) == sum(p["worker"]["id"] == worker_gid for p in placed)

    employer_gid = placed[0]["job"]["employer"]["id"]
    employer = gql.as_(bearer(settings, "employer", employer_id=employer_gid))
    theirs = (await employer.ok(PLACEMENTS, {"first": 100}))["placements"]["nodes"]
    assert theirs
    assert len(theirs) == sum(p["job"]["employer"]["id"] == employer_gid for p in placed)


async def test_nested_placements_cost_the_same_statements_for_few_and_many(
    gql_on_path: GraphQLClient, read_path: str
) -> None:
    few = await gql_on_path(PLACEMENTS, {"first": 2})
    many = await gql_on_path(PLACEMENTS, {"first": 100})
    assert not few.errors and not many.errors
    assert few.body == (await gql_on_path(PLACEMENTS, {"first": 2})).body
    # Compiled: one statement. Resolvers: placements, their count, workers, jobs, employers,
    # applications.
    assert few.statements == many.statements == (1 if read_path == "compiled" else 6)


async def test_a_partners_reads_of_placements_are_audited_with_their_ids(
    http: httpx.AsyncClient, gql: GraphQLClient, settings: Settings, database_url: str,
    placed: list[dict[str, Any]],
) -> None:
    provinces = [r["code"] for r in (await gql.ok("{ regions { code } }"))["regions"]]
    async with consented_partner_key(
        settings, database_url, partner="placement-audit-agency", scopes=["placements"],
        regions=provinces,
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        seen = await partner.ok(
            "query Placed { placements(first: 3) { nodes { id startedOn } } }"
        )
    ids = [p["id"] for p in seen["placements"]["nodes"]]
    assert len(ids) == 3
    audit = await gql.ok(
        """query ($id: ID!) { auditEvents(filter: {recordId: $id, operation: "partnerRead:Placed"})
             { nodes { recordIds sensitiveFields } } }""",
        {"id": ids[0]},
    )
    (event,) = audit["auditEvents"]["nodes"][-1:]
    assert set(ids) <= set(event["recordIds"])
    assert "Placement.startedOn" in event["sensitiveFields"]

