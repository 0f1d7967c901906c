"""Each implementation of a workload as a load-loop operation, and the check that all agree.

The implementations are the GraphQL servers under test (laborhub, and the PostGraphile peers
that run) and the hand-written asyncpg fetch, the reference every server's data is compared
with before anything is timed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.http1 import Http1Pool, ProtocolError
from bench.runner import (
    CpuSample,
    CpuSampler,
    Measurement,
    Operation,
    measure,
    process_cpu_seconds,
    tree_cpu_seconds,
)
from bench.same_data import first_difference, plain
from bench.workloads import ASYNCPG, CountingConnection, Subject, Workload, count_objects

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

OK = "OK"
DIFFERENT = "DIFFERENT"
ERRORS = "ERRORS"
REFERENCE = "reference"


class BadResponse(RuntimeError):
    """The endpoint answered, but not with data."""


@dataclass(frozen=True)
class Endpoint:
    """A GraphQL server under test: its name (one of `workloads.SERVERS`), keep-alive
    connections to it, and the pid whose CPU it is charged."""

    name: str
    connections: Http1Pool
    pid: int


@dataclass(frozen=True)
class Check:
    """One implementation's answer to one workload, against the asyncpg reference."""

    implementation: str
    verdict: str
    objects: int
    detail: str | None = None
    read_path: str | None = None
    """laborhub's `X-Read-Path` header: which path (compiled, resolvers) answered."""

    @property
    def ok(self) -> bool:
        return self.verdict in (OK, REFERENCE)

    def describe(self) -> str:
        path = f", read path: {self.read_path}" if self.read_path else ""
        line = f"{self.implementation} {self.verdict} ({self.objects} objects{path})"
        return f"{line}: {self.detail}" if self.detail else line


@dataclass(frozen=True)
class Sanity:
    workload: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def verdict(self, implementation: str) -> str:
        return next((c.verdict for c in self.checks if c.implementation == implementation), "-")

    def describe(self) -> str:
        lines = [f"sanity {self.workload}: {'OK' if self.ok else 'MISMATCH'}"]
        lines += [f"  {check.describe()}" for check in self.checks]
        return "\n".join(lines)


@dataclass(frozen=True)
class Result:
    workload: str
    implementation: str
    measurement: Measurement
    same_data: str
    """The sanity verdict of this implementation's data on this workload."""


def graphql_request(endpoint: Endpoint, workload: Workload, subject: Subject) -> bytes:
    body = workload.body(endpoint.name, subject)
    return endpoint.connections.request_bytes("/graphql", body, HEADERS)


def endpoint_operation(endpoint: Endpoint, workload: Workload, subject: Subject) -> Operation:
    request = graphql_request(endpoint, workload, subject)

    async def call() -> int | None:
        response = await endpoint.connections.send(request)
        content = response.content
        # `"errors":[` can only be the top-level key: inside a string its quotes are escaped.
        if response.status != 200 or b'"errors":[' in content:
            raise BadResponse(f"HTTP {response.status}: {content[:300]!r}")
        statements = response.headers.get("x-sql-statements")
        return None if statements is None else int(statements)

    return call


def asyncpg_operation(pool: asyncpg.Pool, workload: Workload, subject: Subject) -> Operation:
    async def call() -> int:
        async with pool.acquire() as connection:
            counted = CountingConnection(connection)
            await workload.fetch(counted, subject)
            return counted.statements

    return call


async def sanity_check(
    workload: Workload, subject: Subject, endpoints: list[Endpoint], pool: asyncpg.Pool
) -> Sanity:
    """Each endpoint's data, made plain, value for value against the asyncpg fetch's."""
    async with pool.acquire() as connection:
        reference = await workload.fetch(CountingConnection(connection), subject)
    expected = plain(reference, ASYNCPG)
    checks = [await check_endpoint(endpoint, workload, subject, expected) for endpoint in endpoints]
    checks.append(Check(ASYNCPG, REFERENCE, count_objects(reference)))
    return Sanity(workload.name, tuple(checks))


async def check_endpoint(
    endpoint: Endpoint, workload: Workload, subject: Subject, expected: object
) -> Check:
    try:
        response = await endpoint.connections.send(graphql_request(endpoint, workload, subject))
        payload: dict[str, Any] = json.loads(response.content)
    except (OSError, ProtocolError, ValueError) as exc:
        return Check(endpoint.name, ERRORS, 0, f"{type(exc).__name__}: {exc}"[:300])
    data = payload.get("data")
    objects = count_objects(list((data or {}).values()))
    path = response.headers.get("x-read-path")
    if response.status != 200 or payload.get("errors"):
        detail = f"HTTP {response.status}, errors: {payload.get('errors')}"[:500]
        return Check(endpoint.name, ERRORS, objects, detail, path)
    difference = first_difference(expected, plain(data, endpoint.name))
    return Check(endpoint.name, DIFFERENT if difference else OK, objects, difference, path)


async def bench_workload(
    workload: Workload,
    subject: Subject,
    sanity: Sanity,
    endpoints: list[Endpoint],
    pool: asyncpg.Pool,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    bench_pid: int,
    paced: dict[str, float] | None = None,
) -> list[Result]:
    """Each endpoint in turn, then asyncpg, each with the same clients, warm-up and duration.
    `paced` (endpoint name -> share) measures those endpoints once more at that share of the
    throughput they just reached, as `<name> @<share>` (latency under a steady load).

    CPU is charged to `app` (the server process for an endpoint, this process for asyncpg),
    `client` (this process, for an endpoint: its HTTP client) and `postgres` (the database's
    backends).
    """
    runs = [
        (
            endpoint.name,
            endpoint_operation(endpoint, workload, subject),
            cpu_sampler(pool, {"client": bench_pid}, servers={"app": endpoint.pid}),
        )
        for endpoint in endpoints
    ]
    runs.append(
        (
            ASYNCPG,
            asyncpg_operation(pool, workload, subject),
            cpu_sampler(pool, {"app": bench_pid}),
        )
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
        verdict = sanity.verdict(implementation)
        results.append(Result(workload.name, implementation, measurement, verdict))
        share = (paced or {}).get(implementation)
        if share is not None:
            steady = await measure(
                operation,
                concurrency=concurrency,
                duration=duration,
                warmup=warmup,
                cpu=sampler,
                rate=share * measurement.requests_per_second,
            )
            name = f"{implementation} @{share:.0%}"
            results.append(Result(workload.name, name, steady, verdict))
    return results


def cpu_sampler(
    pool: asyncpg.Pool, processes: dict[str, int], servers: dict[str, int] | None = None
) -> CpuSampler:
    """CPU of each of `processes` alone, of each of `servers` with the processes it started
    (its workers), and of the database's backends."""

    async def sample() -> CpuSample:
        found: CpuSample = {
            name: {pid: process_cpu_seconds(pid)} for name, pid in processes.items()
        }
        for name, pid in (servers or {}).items():
            found[name] = {pid: tree_cpu_seconds(pid)}
        backends = await pool.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        found["postgres"] = {row["pid"]: process_cpu_seconds(row["pid"]) for row in backends}
        return found

    return sample
