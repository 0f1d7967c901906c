"""Nested queries cost a fixed number of SQL statements, whatever the list sizes, on both read
paths: compiled, one statement per root field; resolvers, one per relation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer

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


@dataclass(frozen=True)
class Nested:
    """A read of a relation over `$n` parents: what it costs on the resolver path (one
    statement per relation, batched over every parent, and one per count), and where its
    parents and their related rows are in the answer."""

    query: str
    resolvers: int
    parents: Callable[[Any], list[Any]]
    related: Callable[[Any], int]  # how many related rows a parent shows
    roots: int = 1  # compiled: one statement per root field


def _nodes(*path: str) -> Callable[[Any], list[Any]]:
    def found(data: Any) -> list[Any]:
        for step in path:
            data = data[step]
        return list(data["nodes"])

    return found


def _each(*path: str) -> Callable[[Any], int]:
    """How many rows a parent shows at `path` (a list, a connection's nodes, or one object)."""

    def counted(parent: Any) -> int:
        value = parent
        for step in path:
            value = value[step]
        if isinstance(value, dict) and "nodes" in value:
            return len(value["nodes"])
        if isinstance(value, list):
            return len(value)
        return int(value is not None)

    return counted


def _placed_or_surveyed(job: Any) -> int:
    """A reported job's placements of its applicants and their latest surveys shown."""
    applications = [] if job is None else job["applications"]["nodes"]
    return sum(
        len(a["placements"]) + (a["worker"] is not None and a["worker"]["latestSurvey"] is not None)
        for a in applications
    )


# Each new relation over a list of parents. Resolvers: one statement for the parents, one
# per relation (and per count asked for), whatever the number of parents.
RELATIONS = {
    # workers, the survey pages, their counts
    "Worker.surveys": Nested(
        "query ($n: Int!) { workers(first: $n) { nodes { id version "
        "surveys(first: 2) { totalCount nodes { id surveyedAt willingToRelocate } } } } }",
        3, _nodes("workers"), _each("surveys"),
    ),
    # workers, their latest surveys (the page of one row, batched)
    "Worker.latestSurvey": Nested(
        "query ($n: Int!) { workers(first: $n) { nodes { id "
        "latestSurvey { id surveyedAt skillCodes } } } }",
        2, _nodes("workers"), _each("latestSurvey"),
    ),
    # workers, pages of two surveys, pages of one (another batch: another page size)
    "Worker.surveys and Worker.latestSurvey": Nested(
        "query ($n: Int!) { workers(first: $n) { nodes { "
        "surveys(last: 2) { nodes { id } } latestSurvey { id } } } }",
        3, _nodes("workers"), _each("latestSurvey"),
    ),
    # surveys, their workers
    "SkillSurvey.worker": Nested(
        "query ($n: Int!) { skillSurveys(first: $n) { nodes { id worker { id name } } } }",
        2, _nodes("skillSurveys"), _each("worker"),
    ),
    # reports, their count, jobs, the jobs' employers
    "JobReport.job": Nested(
        "query ($n: Int!) { jobReports(first: $n) { totalCount nodes { id status "
        "job { id title version employer { name } } } } }",
        4, _nodes("jobReports"), _each("job"),
    ),
    # workers, application pages, their placements (a small list)
    "Application.placements": Nested(
        "query ($n: Int!) { workers(first: $n) { nodes { applications(first: 3) { "
        "nodes { id version placements { id startedOn } } } } } }",
        3, _nodes("workers"),
        lambda worker: sum(len(a["placements"]) for a in worker["applications"]["nodes"]),
    ),
    # jobs (the oldest: seeded, with applicants and hires, before those other tests post),
    # application pages, their counts
    "Job.applications": Nested(
        "query ($n: Int!) { jobs(first: $n, filter: {status: PUBLISHED}, "
        "orderBy: {field: POSTED_AT, direction: ASC}) { nodes { id "
        "applications(first: 2) { totalCount nodes { id status } } } } }",
        3, _nodes("jobs"), _each("applications"),
    ),
    # jobs, placement pages
    "Job.placements": Nested(
        "query ($n: Int!) { jobs(first: $n, orderBy: {field: POSTED_AT, direction: ASC}) "
        "{ nodes { id placements(first: 2) { "
        "nodes { id startedOn } } } } }",
        2, _nodes("jobs"), _each("placements"),
    ),
    # reports, jobs, application pages, placements, workers, their latest surveys
    "JobReport.job.applications.placements, .worker.latestSurvey": Nested(
        "query ($n: Int!) { jobReports(first: $n, orderBy: {field: CREATED_AT, direction: ASC}) "
        "{ nodes { job { applications(first: 3) { "
        "nodes { placements { id } worker { latestSurvey { id } } } } } } } }",
        6, _nodes("jobReports"), lambda report: _placed_or_surveyed(report["job"]),
    ),
    # two root fields: two statements compiled; resolvers: surveys, reports
    "skillSurveys and jobReports": Nested(
        "query ($n: Int!) { skillSurveys(first: $n) { nodes { id } } "
        "jobReports(first: $n) { nodes { id } } }",
        2, lambda data: data["skillSurveys"]["nodes"] + data["jobReports"]["nodes"],
        lambda _node: 1, roots=2,
    ),
}
FEW, MANY = 2, 60
# Admins, and staff of a province: a row policy is a condition of the statements it reads in.
VIEWERS = {"admin": {"role": "admin"}, "staff": {"role": "staff", "region": "440000"}}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("name", RELATIONS)
async def test_each_relation_costs_the_same_for_2_and_many_parents(
    name: str, viewer: str, gql_on_path: GraphQLClient, read_path: str, settings: Settings
) -> None:
    nested = RELATIONS[name]
    client = gql_on_path.as_(bearer(settings, **VIEWERS[viewer]))
    few = await client(nested.query, {"n": FEW})
    many = await client(nested.query, {"n": MANY})
    assert not few.errors and not many.errors, (few.errors, many.errors)
    parents = nested.parents(many.data)
    assert len(parents) > FEW, "more parents than the few"
    assert sum(map(nested.related, parents)) > 0, "the parents have related rows to read"
    assert many.headers["x-read-path"] == read_path
    expected = nested.roots if read_path == "compiled" else nested.resolvers
    assert (few.statements, many.statements) == (expected, expected)
