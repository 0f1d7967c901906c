"""Nested queries cost a fixed number of SQL statements, whatever the list sizes, on both read
paths: compiled, one statement per root field; resolvers, one per relation."""

from __future__ import annotations

from tests.conftest import GraphQLClient

NESTED = """
query ($n: Int!) {
  workers(first: $n) {
    edges { node {
      name
      hukouRegion { name parent { name } }
      applications(first: 10) {
        totalCount
        edges { node { status job { title employer { name region { name } } } } }
      }
    } }
  }
}
"""


async def test_three_level_nesting_costs_the_same_for_5_and_100_parents(
    gql_on_path: GraphQLClient, read_path: str
) -> None:
    small = await gql_on_path(NESTED, {"n": 5})
    large = await gql_on_path(NESTED, {"n": 100})
    assert not small.errors and not large.errors
    assert len(large.data["workers"]["edges"]) == 100
    applications = sum(
        len(e["node"]["applications"]["edges"]) for e in large.data["workers"]["edges"]
    )
    assert applications > 0
    assert small.statements == large.statements
    assert large.headers["x-read-path"] == read_path
    # Resolvers: workers, regions (both levels share one loader per level), application pages,
    # application counts, jobs, employers, employer regions.
    assert large.statements == 1 if read_path == "compiled" else large.statements <= 9


async def test_a_flat_page_and_its_count(gql_on_path: GraphQLClient, read_path: str) -> None:
    with_count = await gql_on_path("{ jobs(first: 50) { totalCount nodes { title } } }")
    without = await gql_on_path("{ jobs(first: 50) { nodes { title } } }")
    # Compiled, the count is part of the one statement; resolvers count separately.
    expected = (1, 1) if read_path == "compiled" else (2, 1)
    assert (with_count.statements, without.statements) == expected
