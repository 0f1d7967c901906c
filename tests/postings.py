"""What the tests of postings and hiring share: posting a job of its own, reading it, the
user errors of a payload, the seeded employers and workers to act as."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer

JOB_FIELDS = "id status version headcount openingsFilled openingsLeft postedAt validThrough " \
    "lastVerifiedAt title"
CREATE = f"""mutation ($input: CreateJobInput!) {{ createJob(input: $input) {{
  job {{ {JOB_FIELDS} }} userErrors {{ field code message }} }} }}"""
READ_JOB = f"query ($id: ID!) {{ node(id: $id) {{ ... on Job {{ {JOB_FIELDS} }} }} }}"


@dataclass(frozen=True)
class Employer:
    id: str
    region: str  # a prefecture or county code

    @property
    def province(self) -> str:
        return self.region[:2] + "0000"


async def seeded_employers(gql: GraphQLClient) -> list[Employer]:
    """Two employers in different provinces."""
    data = await gql.ok("{ employers(first: 50) { nodes { id region { code } } } }")
    found = [Employer(n["id"], n["region"]["code"]) for n in data["employers"]["nodes"]]
    first = found[0]
    return [first, next(e for e in found if e.region[:2] != first.region[:2])]


def unique_title(stem: str = "普工") -> str:
    return f"{stem} {uuid.uuid4().hex[:8]}"


def job_values(employer: Employer, **changes: Any) -> dict[str, Any]:
    values = {
        "employerId": employer.id, "title": unique_title(), "regionCode": employer.region,
        "salaryMin": "6000", "salaryMax": "8000", "salaryUnit": "MONTH", "headcount": 2,
        "employmentType": "FULL_TIME", "status": "PUBLISHED",
    }
    return {**values, **changes}


async def post_job(gql: GraphQLClient, employer: Employer, **changes: Any) -> dict[str, Any]:
    """A new job of `employer`, posted by the admin client `gql`, with a title of its own."""
    created = (await gql.ok(CREATE, {"input": job_values(employer, **changes)}))["createJob"]
    assert created["userErrors"] == [] and created["job"] is not None, created
    return dict(created["job"])


async def read_job(client: GraphQLClient, job_id: str) -> Any:
    return (await client.ok(READ_JOB, {"id": job_id}))["node"]


def codes(payload: Any) -> list[tuple[tuple[str, ...], str]]:
    """(field, code) of each user error of a payload."""
    return [(tuple(e["field"] or ()), e["code"]) for e in payload["userErrors"]]


def key_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


@asynccontextmanager
async def expired(engine: AsyncEngine, job_id: str) -> AsyncIterator[None]:
    """The job's validity passes behind the app's back (as time would) for the block; then
    it runs 30 days more, so that no other test meets a job it did not expect to expire (the
    bench's peers, for one, read the stored status)."""
    statement = "UPDATE jobs SET posted_at = least(posted_at, now() - interval '2 days'), " \
        "valid_through = {} WHERE id = :id"
    async with engine.begin() as connection:
        await connection.execute(
            text(statement.format("now() - interval '1 second'")), {"id": key_of(job_id)}
        )
    try:
        yield
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text(statement.format("now() + interval '30 days'")), {"id": key_of(job_id)}
            )


def as_worker(gql: GraphQLClient, settings: Settings, worker_id: str) -> GraphQLClient:
    """The worker `worker_id`, signed in as a person of their own (a reporter of their own)."""
    subject = f"worker-{uuid.uuid4().hex[:8]}"
    return gql.as_(bearer(settings, "worker", subject=subject, worker_id=worker_id))


async def seeded_workers(gql: GraphQLClient, count: int) -> list[str]:
    data = await gql.ok("query ($n: Int) { workers(first: $n) { nodes { id } } }", {"n": count})
    return [node["id"] for node in data["workers"]["nodes"]]
