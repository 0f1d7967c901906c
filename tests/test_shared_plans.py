"""One compiled plan serves every worker, every employer, every staff division and every
partner key of one agreement: what the row policies read of the viewer (own ids, division,
regions, consent purpose) are parameters of the plan, set per request
(resolvers.viewer_parameters, server.compiled_reads).

Each test's document is new to the process (a fresh alias), so no plan kept by another test
answers it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import server.compiled_reads
from db.codes import division_prefix
from db.pii import PersonalDataVault
from server.auth import create_api_key, revoke_api_key
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
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


async def test_staff_of_every_division_and_level_read_their_own_rows_on_one_plan(
    gql: GraphQLClient, settings: Settings, engine: AsyncEngine, compilations: list[int]
) -> None:
    """A division is a parameter (a code range, the same SQL at every level): staff of two
    provinces, a prefecture and a county share the plan the first one's request compiled."""
    alias = fresh_alias()
    query = f"""{{ {alias}: workers(first: 100) {{ totalCount
        nodes {{ currentRegion {{ code }} hukouRegion {{ code }} }} }} }}"""
    divisions = await _staff_divisions(engine)
    for division in divisions:
        result = await gql.as_(bearer(settings, "staff", region=division))(query)
        assert result.status == 200 and not result.errors, result.body
        assert result.headers.get("x-read-path") == "compiled"
        workers = result.data[alias]
        expected = await _count(
            engine,
            "SELECT count(*) FROM workers WHERE left(current_region_code, :n) = :p"
            " OR left(hukou_region_code, :n) = :p",
            division,
        )
        assert workers["totalCount"] == expected > 0, division
        prefix = division_prefix(division)
        for worker in workers["nodes"]:
            codes = [(worker[r] or {}).get("code") or "" for r in ("currentRegion", "hukouRegion")]
            assert any(code.startswith(prefix) for code in codes), (division, worker)
    assert compilations[0] == 2, "compiled again for another division (or not probed)"


async def test_partners_with_other_regions_and_purposes_read_their_own_rows_on_one_plan(
    settings: Settings, database_url: str, http: httpx.AsyncClient, engine: AsyncEngine,
    compilations: list[int],
) -> None:
    """A partner's regions (in slots of powers of two) and consent purpose are parameters:
    two keys of one agreement but for their regions and purposes share a plan, and see only
    the workers in their regions with their consent; one with three regions has a plan of
    its own (four slots)."""
    alias = fresh_alias()
    query = f"""{{ {alias}: workers(first: 100) {{ totalCount nodes {{ currentRegion {{ code }} }}
        }} }}"""
    first, second = (await _staff_divisions(engine))[:2]
    seen = []
    for regions in ([first], [second], [first, second, "110000"]):
        async with consented_partner_key(
            settings, database_url, partner=f"plans-{fresh_alias()}", scopes=["workers"],
            regions=regions,
        ) as key:
            result = await GraphQLClient(http, {"x-api-key": key})(query)
        assert result.status == 200 and not result.errors, result.body
        assert result.headers.get("x-read-path") == "compiled"
        expected = sum([
            await _count(engine, "SELECT count(*) FROM workers "
                         "WHERE left(current_region_code, :n) = :p", region)
            for region in regions
        ])
        assert result.data[alias]["totalCount"] == expected > 0, regions
        prefixes = tuple(division_prefix(region) for region in regions)
        codes = [node["currentRegion"]["code"] for node in result.data[alias]["nodes"]]
        assert codes and all(code.startswith(prefixes) for code in codes)
        seen.append(compilations[0])
    assert seen == [2, 2, 4], "one plan for one region each, another for three (four slots)"


async def test_without_its_consent_a_partner_on_a_shared_plan_sees_no_worker(
    settings: Settings, database_url: str, http: httpx.AsyncClient, engine: AsyncEngine,
    compilations: list[int],
) -> None:
    """The consent purpose is the second key's own on the plan the first key compiled."""
    alias = fresh_alias()
    query = f"{{ {alias}: workers(first: 5) {{ totalCount }} }}"
    [division] = (await _staff_divisions(engine))[:1]
    async with consented_partner_key(
        settings, database_url, partner="consented", scopes=["workers"], regions=[division]
    ) as consenting:
        consented = await GraphQLClient(http, {"x-api-key": consenting})(query)
        key = await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner="unconsented",
            scopes=["workers"], regions=[division], purpose=f"nobody-{fresh_alias()}",
        )
        try:
            refused = await GraphQLClient(http, {"x-api-key": key})(query)
        finally:
            await revoke_api_key(engine, key[3:11])
    assert consented.data[alias]["totalCount"] > 0
    assert refused.data[alias]["totalCount"] == 0
    assert refused.headers.get("x-read-path") == "compiled"
    assert compilations[0] == 2, "the second key did not take the first one's plan"


async def _staff_divisions(engine: AsyncEngine) -> list[str]:
    """Two provinces, a prefecture and a county that workers live in (the most populous)."""
    async with engine.connect() as connection:
        codes = (await connection.execute(text(
            "SELECT code FROM (SELECT left(current_region_code, 2) || '0000' AS code, count(*)"
            "  FROM workers GROUP BY 1 ORDER BY 2 DESC LIMIT 2) provinces"
            " UNION ALL (SELECT left(current_region_code, 4) || '00' FROM workers"
            "  WHERE current_region_code NOT LIKE '%00' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
            " UNION ALL (SELECT current_region_code FROM workers"
            "  WHERE current_region_code NOT LIKE '%00' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
        ))).scalars().all()
    assert len(codes) == 4, codes
    return list(codes)


async def _count(engine: AsyncEngine, sql: str, division: str) -> int:
    prefix = division_prefix(division)
    async with engine.connect() as connection:
        found = await connection.scalar(text(sql), {"n": len(prefix), "p": prefix})
    return int(found or 0)


async def test_one_plan_serves_every_page_size_given_by_a_variable(
    gql: GraphQLClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    compilations: list[int],
) -> None:
    """`first: $n` and `last: $n`, at the root and nested, are parameters of one plan; a size
    out of range is refused as on the resolver path."""
    alias = fresh_alias()
    query = f"""query Sizes($n: Int, $m: Int) {{ {alias}: employers(first: $n) {{
        nodes {{ id jobs(last: $m) {{ nodes {{ id }} pageInfo {{ hasPreviousPage }} }} }}
        pageInfo {{ hasNextPage }} }} }}"""
    resolvers = GraphQLClient(http_resolvers, gql.headers)
    for n, m in ((1, 1), (3, 2), (7, 0), (2, 5)):
        compiled = await gql(query, {"n": n, "m": m})
        assert compiled.headers.get("x-read-path") == "compiled"
        assert not compiled.errors, compiled.body
        employers = compiled.data[alias]["nodes"]
        assert len(employers) == n
        assert all(len(employer["jobs"]["nodes"]) <= m for employer in employers)
        assert any(len(employer["jobs"]["nodes"]) == m for employer in employers) or m == 0
        resolved = await resolvers(query, {"n": n, "m": m})
        assert compiled.data == resolved.data
    assert compilations[0] == 1, "compiled again for another page size"
    refused = await gql(query, {"n": 101, "m": 1})
    resolved = await resolvers(query, {"n": 101, "m": 1})
    assert refused.headers.get("x-read-path") == "resolvers"
    assert refused.errors and refused.errors[0]["message"] == resolved.errors[0]["message"]
    assert "first" in refused.errors[0]["message"]


async def test_the_cost_limit_holds_for_every_page_size_of_a_shared_plan(
    gql: GraphQLClient,
) -> None:
    """The cost of an operation is kept per page size, not under the plan's key alone: a
    small page first does not let a huge one through after it."""
    alias = fresh_alias()
    query = f"""query Cost($n: Int, $m: Int) {{ {alias}: employers(first: $n) {{
        nodes {{ jobs(first: $m) {{ nodes {{ applications(first: $m) {{ nodes {{ id }} }} }} }}
        }} }} }}"""
    assert not (await gql(query, {"n": 2, "m": 2})).errors
    refused = await gql(query, {"n": 100, "m": 100})
    assert refused.errors, refused.body
    assert refused.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
