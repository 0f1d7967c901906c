"""One compiled plan serves every worker, and every employer: their own ids are parameters
of the plan, set per request (resolvers.viewer_parameters, server.compiled_reads).

Each test's document is new to the process (a fresh alias), so no plan kept by another test
answers it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import server.compiled_reads
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.subjects import Subjects, find_subjects


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    return await find_subjects(gql)


@pytest.fixture
def compilations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times an operation was compiled (the probe compilation included)."""
    count = [0]
    compile_query = server.compiled_reads.compile_query

    async def counting(query: Any) -> Any:
        count[0] += 1
        return await compile_query(query)

    monkeypatch.setattr(server.compiled_reads, "compile_query", counting)
    return count


def fresh_alias() -> str:
    return f"a{uuid.uuid4().hex[:12]}"


async def compiled_nodes(client: GraphQLClient, query: str, alias: str) -> list[Any]:
    """The nodes of the list under `alias`, which the compiled path answered."""
    result = await client(query)
    assert result.status == 200 and not result.errors, result.body
    assert result.headers.get("x-read-path") == "compiled"
    return list(result.data[alias]["nodes"])


async def test_a_worker_reads_their_own_rows_on_the_plan_compiled_for_another(
    gql: GraphQLClient, settings: Settings, subjects: Subjects, compilations: list[int]
) -> None:
    alias = fresh_alias()
    query = f"""{{ {alias}: workers(first: 5) {{ nodes {{ id birthDate
        applications(first: 3) {{ nodes {{ id worker {{ id }} }} }} }} }} }}"""
    answers = {}
    for worker in (subjects.worker, subjects.other_worker):
        client = gql.as_(bearer(settings, "worker", worker_id=worker))
        answers[worker] = await compiled_nodes(client, query, alias)
    assert compilations[0] == 2, "compiled again for the second worker (or not probed)"
    for worker, nodes in answers.items():
        [own] = nodes
        assert own["id"] == worker
        assert own["birthDate"] is not None  # a worker's own birth date, theirs alone
        applicants = {a["worker"]["id"] for a in own["applications"]["nodes"]}
        assert applicants == {worker}


async def test_an_employer_sees_its_own_applicants_on_the_plan_compiled_for_another(
    gql: GraphQLClient, settings: Settings, subjects: Subjects, compilations: list[int]
) -> None:
    alias = fresh_alias()
    query = f"""{{ {alias}: employers(first: 60) {{ nodes {{ id
        jobs(first: 20) {{ nodes {{ applications(first: 1) {{ nodes {{ id }} }} }} }} }} }} }}"""
    seen = {}
    for employer in (subjects.employer, subjects.other_employer):
        client = gql.as_(bearer(settings, "employer", employer_id=employer))
        # applications are visible under the employer's own jobs only
        seen[employer] = {
            node["id"] for node in await compiled_nodes(client, query, alias)
            if any(job["applications"]["nodes"] for job in node["jobs"]["nodes"])
        }
    assert compilations[0] == 2, "compiled again for the second employer (or not probed)"
    assert seen == {subjects.employer: {subjects.employer},
                    subjects.other_employer: {subjects.other_employer}}


async def test_staff_of_two_divisions_keep_plans_of_their_own(
    gql: GraphQLClient, settings: Settings, subjects: Subjects, compilations: list[int]
) -> None:
    """Only a worker's or employer's own id is a parameter: a division stays in the key."""
    alias = fresh_alias()
    query = f"{{ {alias}: workers(first: 1) {{ totalCount }} }}"
    other = next(code for code in subjects.provinces if code != subjects.province)
    for region in (subjects.province, other):
        result = await gql.as_(bearer(settings, "staff", region=region))(query)
        assert result.status == 200 and not result.errors, result.body
    assert compilations[0] == 2  # one each; staff have no ids to probe
