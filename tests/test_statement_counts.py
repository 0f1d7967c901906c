"""Nested queries cost a fixed number of SQL statements, whatever the list sizes."""

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
    gql: GraphQLClient,
) -> None:
    small = await gql(NESTED, {"n": 5})
    large = await gql(NESTED, {"n": 100})
    assert not small.errors and not large.errors
    assert len(large.data["workers"]["edges"]) == 100
    applications = sum(
        len(e["node"]["applications"]["edges"]) for e in large.data["workers"]["edges"]
    )
    assert applications > 0
    assert small.statements == large.statements
    # workers, regions (both levels share one loader per level), application pages,
    # application counts, jobs, employers, employer regions.
    assert large.statements <= 9, large.statements


async def test_flat_page_is_two_statements_with_count_and_one_without(gql: GraphQLClient) -> None:
    with_count = await gql("{ jobs(first: 50) { totalCount nodes { title } } }")
    without = await gql("{ jobs(first: 50) { nodes { title } } }")
    assert (with_count.statements, without.statements) == (2, 1)
