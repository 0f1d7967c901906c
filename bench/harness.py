"""Both implementations of a workload as load-loop operations, and the check that they agree."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench.runner import CpuSample, CpuSampler, Measurement, Operation, measure, process_cpu_seconds
from bench.workloads import CountingConnection, Workload, count_objects

GRAPHQL = "graphql"
ASYNCPG = "asyncpg"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class BadResponse(RuntimeError):
    """The endpoint answered, but not with data."""


@dataclass(frozen=True)
class Result:
    workload: str
    implementation: str
    measurement: Measurement


@dataclass(frozen=True)
class Sanity:
    workload: str
    graphql_objects: int
    asyncpg_objects: int
    identical: bool
    graphql_errors: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.graphql_errors and self.graphql_objects == self.asyncpg_objects

    def describe(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        same = "identical data" if self.identical else "data differs"
        errors = f", GraphQL errors: {self.graphql_errors}" if self.graphql_errors else ""
        return (
            f"sanity {self.workload}: {verdict}: graphql {self.graphql_objects} objects, "
            f"asyncpg {self.asyncpg_objects} objects, {same}{errors}"
        )


def request_body(workload: Workload) -> bytes:
    return json.dumps({"query": workload.query}).encode()


def graphql_operation(client: httpx.AsyncClient, workload: Workload) -> Operation:
    body = request_body(workload)

    async def call() -> int:
        response = await client.post("/graphql", content=body, headers=HEADERS)
        content = response.content
        # `"errors":[` can only be the top-level key: inside a string its quotes are escaped.
        if response.status_code != 200 or b'"errors":[' in content:
            raise BadResponse(f"HTTP {response.status_code}: {content[:300]!r}")
        return int(response.headers["x-sql-statements"])

    return call


def asyncpg_operation(pool: asyncpg.Pool, workload: Workload) -> Operation:
    async def call() -> int:
        async with pool.acquire() as connection:
            counted = CountingConnection(connection)
            await workload.fetch(counted)
            return counted.statements

    return call


async def sanity_check(workload: Workload, client: httpx.AsyncClient, pool: asyncpg.Pool) -> Sanity:
    response = await client.post("/graphql", content=request_body(workload), headers=HEADERS)
    payload = response.json()
    graphql_data = payload.get("data")
    async with pool.acquire() as connection:
        asyncpg_data = await workload.fetch(CountingConnection(connection))
    return Sanity(
        workload=workload.name,
        graphql_objects=count_objects(list((graphql_data or {}).values())),
        asyncpg_objects=count_objects(list(asyncpg_data.values())),
        identical=graphql_data == asyncpg_data,
        graphql_errors=payload.get("errors") or [],
    )


async def bench_workload(
    workload: Workload,
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    server_pid: int,
    bench_pid: int,
) -> list[Result]:
    """GraphQL first, then asyncpg, each with the same clients, warm-up and duration.

    CPU is charged to `app` (the uvicorn process for GraphQL, this process for asyncpg),
    `client` (this process, for GraphQL: httpx) and `postgres` (the database's backends).
    """
    runs = (
        (
            GRAPHQL,
            graphql_operation(client, workload),
            cpu_sampler(pool, {"app": server_pid, "client": bench_pid}),
        ),
        (ASYNCPG, asyncpg_operation(pool, workload), cpu_sampler(pool, {"app": bench_pid})),
    )
    results = []
    for implementation, operation, sampler in runs:
        measurement = await measure(
            operation,
            concurrency=concurrency,
            duration=duration,
            warmup=warmup,
            cpu=sampler,
        )
        results.append(Result(workload.name, implementation, measurement))
    return results


def cpu_sampler(pool: asyncpg.Pool, processes: dict[str, int]) -> CpuSampler:
    async def sample() -> CpuSample:
        found: CpuSample = {
            name: {pid: process_cpu_seconds(pid)} for name, pid in processes.items()
        }
        backends = await pool.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        found["postgres"] = {row["pid"]: process_cpu_seconds(row["pid"]) for row in backends}
        return found

    return sample
