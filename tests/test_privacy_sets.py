"""Personal fields as a set: nothing a viewer reads together rebuilds an ID number.

A masked ID number (`110105********002X`) hides exactly the birth date. Whatever else a
viewer may read of a worker (every scalar field of `Worker`, on every path to it), an
attacker's best rebuild must still leave more than one candidate number: only the worker
themself reads the full birth date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, is_leaf_type

import schema
from db.codes import id_number_check_char
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.subjects import Subjects, find_subjects

WORKER = schema.schema._schema.type_map["Worker"]
assert isinstance(WORKER, GraphQLObjectType)
# Every field of a worker that holds a value (not a relation) and needs no argument.
WORKER_VALUES = " ".join(
    name for name, field in WORKER.fields.items()
    if is_leaf_type(field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type)
    and not any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
)
REVEAL = """mutation ($id: ID!) { revealIdNumber(input: {workerId: $id, purpose: "tests"}) {
  idNumber userErrors { code } } }"""
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _exact_age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def candidates(worker: dict[str, Any]) -> list[str]:
    """Every valid ID number agreeing with all that was read of the worker: the masked
    number, and the birth date, year or age (read either as the age today or this year)."""
    masked = worker["maskedIdNumber"]
    years = range(1900, TODAY.year + 1)
    if worker.get("birthYear") is not None:
        years = range(worker["birthYear"], worker["birthYear"] + 1)
    found = []
    for year in years:
        day = date(year, 1, 1)
        while day.year == year:
            agrees = (
                worker.get("birthDate") in (None, day.isoformat())
                and worker.get("age") in (None, _exact_age(day, TODAY), TODAY.year - day.year)
            )
            first17 = f"{masked[:6]}{day:%Y%m%d}{masked[14:17]}"
            if agrees and id_number_check_char(first17) == masked[17]:
                found.append(first17 + masked[17])
            day += timedelta(days=1)
    return found


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    return await find_subjects(gql)


@pytest.fixture(scope="module")
async def partner(
    http: httpx.AsyncClient, settings: Settings, database_url: str, subjects: Subjects
) -> AsyncIterator[GraphQLClient]:
    """A partner reaching workers and their applications, with every worker's consent."""
    async with consented_partner_key(
        settings, database_url, partner="sets-test-agency", scopes=["workers", "jobs", "node"],
        regions=subjects.provinces, types=["Application", "Worker"],
    ) as key:
        yield GraphQLClient(http, {"x-api-key": key})


@pytest.fixture(scope="module")
def viewers(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings, subjects: Subjects,
    partner: GraphQLClient,
) -> dict[str, GraphQLClient]:
    """Viewers who may see workers but not read their ID numbers whole in passing."""
    return {
        "employer": gql.as_(bearer(settings, "employer", employer_id=subjects.employer)),
        "partner": partner,
        "staff": gql.as_(bearer(settings, "staff", region=subjects.province)),
        "anonymous": anonymous,
    }


WORKERS_EVERY_WAY = f"""query ($id: ID!) {{
  workers(first: 100) {{ nodes {{ {WORKER_VALUES} }} }}
  node(id: $id) {{ ... on Worker {{ {WORKER_VALUES} }} }}
  jobs(first: 100) {{ nodes {{ applications(first: 10) {{ nodes {{
    worker {{ {WORKER_VALUES} }} }} }} }} }}
}}"""


def _workers_read(data: dict[str, Any]) -> list[dict[str, Any]]:
    nested = [
        a["worker"] for j in data["jobs"]["nodes"] for a in j["applications"]["nodes"]
        if a["worker"]
    ]
    return [*data["workers"]["nodes"], *([data["node"]] if data["node"] else []), *nested]


async def test_nothing_read_together_rebuilds_an_id_number(
    viewers: dict[str, GraphQLClient], gql: GraphQLClient, subjects: Subjects
) -> None:
    revealed = (await gql.ok(REVEAL, {"id": subjects.worker}))["revealIdNumber"]["idNumber"]
    for role, viewer in viewers.items():
        result = await viewer(WORKERS_EVERY_WAY, {"id": subjects.worker})
        assert result.status == 200 and not result.errors, (role, result.errors[:3])
        read = _workers_read(result.data)
        rebuilt = {}
        for worker in read:
            found = candidates(worker)
            assert len(found) > 1, f"{role} rebuilt the ID number of {worker['id']}"
            rebuilt[worker["id"]] = found
            assert worker["birthDate"] is None, "the full birth date is part of the ID number"
            assert worker["age"] == TODAY.year - worker["birthYear"], "age follows the year"
        if role == "anonymous":
            assert read == []
        else:
            assert revealed in rebuilt[subjects.worker], f"{role}: the rebuild itself is sound"


async def test_the_worker_themself_reads_their_birth_date(
    gql: GraphQLClient, settings: Settings, subjects: Subjects
) -> None:
    worker = gql.as_(bearer(settings, "worker", worker_id=subjects.worker))
    data = await worker.ok(
        f"query ($id: ID!) {{ node(id: $id) {{ ... on Worker {{ {WORKER_VALUES} }} }} }}",
        {"id": subjects.worker},
    )
    own = data["node"]
    number = (await worker.ok(REVEAL, {"id": subjects.worker}))["revealIdNumber"]["idNumber"]
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert own["birthDate"] == born.isoformat()
    assert own["birthYear"] == born.year and own["age"] == TODAY.year - born.year
    assert candidates(own) == [number], "with the date the masked number is the whole number"
