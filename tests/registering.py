"""Workers of a test's own: fresh valid ID numbers, registered through `registerWorker` (and
removed after the test by the fixture `registered_workers_removed`).

The seeded workers are 18 to 60 years old today; the ID numbers made here are of people born
in 1962 to 2004 on a random day with a random order code, so two tests hardly ever draw the
same one.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from db.codes import generate_id_number
from tests.conftest import GraphQLClient

WORKER_FIELDS = """id name gender birthYear maskedIdNumber maskedPhone educationLevel
  newEmploymentForm version hukouRegion { code } currentRegion { code }
  skills { level skill { code } }"""
REGISTER = f"""mutation ($input: RegisterWorkerInput!) {{ registerWorker(input: $input) {{
  worker {{ {WORKER_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE = f"""mutation ($input: UpdateWorkerInput!) {{ updateWorker(input: $input) {{
  worker {{ {WORKER_FIELDS} }} userErrors {{ field code message }} }} }}"""
READ = f"query ($id: ID!) {{ node(id: $id) {{ ... on Worker {{ {WORKER_FIELDS} }} }} }}"
COUNT = "{ workers { totalCount } }"

HUKOU = "411421"  # 民权县, 商丘市, 河南省
CURRENT = "440306"  # 宝安区, 深圳市, 广东省

_draws = random.Random()


def new_id_number(region: str = HUKOU, male: bool | None = None) -> str:
    """A valid ID number no seeded worker has (see the module docstring)."""
    born = date(1962, 1, 1) + timedelta(days=_draws.randrange(42 * 365))
    is_male = _draws.random() < 0.5 if male is None else male
    return generate_id_number(region, born, _draws.randrange(500), is_male)


def worker_input(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "王建国",
        "idNumber": new_id_number(),
        "phone": "138 0013 8000",
        "hukouRegionCode": HUKOU,
        "currentRegionCode": CURRENT,
        "educationLevel": "JUNIOR_SECONDARY",
        "skills": ["welding", "forklift"],
    }
    return {**values, **changes}


def codes(result: Any) -> list[tuple[tuple[str, ...], str]]:
    """A payload's user errors as (field path, code)."""
    return [(tuple(e["field"] or ()), e["code"]) for e in result["userErrors"]]


async def register(client: GraphQLClient, **changes: Any) -> Any:
    """The `registerWorker` payload of a worker registered with `worker_input(**changes)`."""
    return (await client.ok(REGISTER, {"input": worker_input(**changes)}))["registerWorker"]


async def registered(client: GraphQLClient, **changes: Any) -> Any:
    """A new worker (as `WORKER_FIELDS` selects it), registered by `client`."""
    result = await register(client, **changes)
    assert result["userErrors"] == [] and result["worker"] is not None, result
    return result["worker"]


async def update(client: GraphQLClient, worker: Any, **changes: Any) -> Any:
    """The `updateWorker` payload of `changes` to `worker` at the version it was read at."""
    values = {"workerId": worker["id"], "version": worker["version"], **changes}
    return (await client.ok(UPDATE, {"input": values}))["updateWorker"]


async def read(client: GraphQLClient, worker: Any) -> Any:
    return (await client.ok(READ, {"id": worker["id"]}))["node"]


async def worker_count(client: GraphQLClient) -> int:
    return int((await client.ok(COUNT))["workers"]["totalCount"])

