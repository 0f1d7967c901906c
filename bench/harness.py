"""Each implementation of a workload as a load-loop operation, and the check that all agree.

The implementations are the GraphQL servers under test (laborhub, and the PostGraphile peers
that run) and the hand-written asyncpg fetch, the reference every server's data is compared
with before anything is timed. A workload with several variants is checked on a few of them
(`checked_variants`) and timed on all of them in turn: each request the next one, the request
bytes of every variant built before the clock starts.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.database import BENCH_KEY
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
from bench.server import bearer_headers
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
    """One for each implementation, over all the variants checked."""
    variants: int = 1
    """How many distinct requests the workload cycles through."""
    checked: tuple[int, ...] = (0,)
    """The variants compared."""

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def verdict(self, implementation: str) -> str:
        return next((c.verdict for c in self.checks if c.implementation == implementation), "-")

    def describe(self) -> str:
        line = f"sanity {self.workload}: {'OK' if self.ok else 'MISMATCH'}"
        if self.variants > 1:
            checked = ", ".join(map(str, self.checked))
            line += f" (variants {checked} of {self.variants})"
        lines = [line]
        lines += [f"  {check.describe()}" for check in self.checks]
        return "\n".join(lines)


@dataclass(frozen=True)
class Result:
    workload: str
    implementation: str
    measurement: Measurement
    same_data: str
    """The sanity verdict of this implementation's data on this workload."""
    variants: int = 1
    """How many distinct requests the clients cycled through."""


def checked_variants(variants: int) -> tuple[int, ...]:
    """The variants the sanity check compares: the first, a middle one and the last."""
    return tuple(sorted({0, variants // 2, variants - 1}))


def graphql_request(
    endpoint: Endpoint, workload: Workload, subject: Subject, variant: int
) -> bytes:
    body = workload.body(endpoint.name, subject, variant)
    headers: dict[str, str | None] = {**HEADERS}
    if workload.asker is not None:
        claims = workload.asker(subject, variant)
        # None: anonymous, without the pool's (admin) credentials.
        headers.update(
            {"Authorization": None} if claims is None else bearer_headers(BENCH_KEY, **claims)
        )
    return endpoint.connections.request_bytes("/graphql", body, headers)


def endpoint_operation(endpoint: Endpoint, workload: Workload, subject: Subject) -> Operation:
    """POST each variant's request in turn, all of them encoded once, here."""
    requests = [
        graphql_request(endpoint, workload, subject, variant)
        for variant in range(workload.variants(subject))
    ]
    next_request = itertools.cycle(requests).__next__

    expect = workload.expect

    async def call() -> int | None:
        response = await endpoint.connections.send(next_request())
        content = response.content
        # `"errors":[` can only be the top-level key: inside a string its quotes are escaped.
        failed = b'"errors":[' in content or (expect is not None and expect not in content)
        if response.status != 200 or failed:
            raise BadResponse(f"HTTP {response.status}: {content[:300]!r}")
        statements = response.headers.get("x-sql-statements")
        return None if statements is None else int(statements)

    return call


def asyncpg_operation(pool: asyncpg.Pool, workload: Workload, subject: Subject) -> Operation:
    """Fetch each variant in turn."""
    next_variant = itertools.cycle(range(workload.variants(subject))).__next__

    async def call() -> int:
        async with pool.acquire() as connection:
            counted = CountingConnection(connection)
            await workload.fetch(counted, subject, next_variant())
            return counted.statements

    return call


async def sanity_check(
    workload: Workload, subject: Subject, endpoints: list[Endpoint], pool: asyncpg.Pool
) -> Sanity:
    """Each endpoint's data, made plain, value for value against the asyncpg fetch's, for
    each of the `checked_variants` (or those the workload names)."""
    endpoints = [endpoint for endpoint in endpoints if workload.serves(endpoint.name)]
    variants = workload.variants(subject)
    expected: dict[int, object] = {}
    objects = 0
    checked = workload.checked(subject) if workload.checked else checked_variants(variants)
    for variant in checked:
        async with pool.acquire() as connection:
            reference = await workload.fetch(CountingConnection(connection), subject, variant)
        expected[variant] = plain(reference, ASYNCPG)
        objects += count_objects(list(reference.values()))
    await reset(workload, pool, subject)
    checks = []
    for endpoint in endpoints:
        checks.append(await check_endpoint(endpoint, workload, subject, expected))
        await reset(workload, pool, subject)
    checks.append(Check(ASYNCPG, REFERENCE, objects))
    return Sanity(workload.name, tuple(checks), variants, tuple(expected))


async def reset(workload: Workload, pool: asyncpg.Pool, subject: Subject) -> int:
    """Undo what a writing workload wrote (`Workload.reset`); 0 for a reading one."""
    return 0 if workload.reset is None else await workload.reset(pool, subject)


async def check_endpoint(
    endpoint: Endpoint, workload: Workload, subject: Subject, expected: dict[int, object]
) -> Check:
    """The endpoint's answers to the variants of `expected` (variant -> plain data): its first
    check that is not OK, or OK with the objects of all the answers."""
    checks = []
    for variant, data in expected.items():
        check = await check_variant(endpoint, workload, subject, variant, data)
        if not check.ok:
            return check
        checks.append(check)
    paths = dict.fromkeys(check.read_path for check in checks if check.read_path)
    objects = sum(check.objects for check in checks)
    return Check(endpoint.name, OK, objects, None, "+".join(paths) or None)


async def check_variant(
    endpoint: Endpoint, workload: Workload, subject: Subject, variant: int, expected: object
) -> Check:
    """The endpoint's answer to one variant; a failure names the variant when there are
    several."""
    at = f"variant {variant}: " if workload.variants(subject) > 1 else ""
    request = graphql_request(endpoint, workload, subject, variant)
    try:
        response = await endpoint.connections.send(request)
        payload: dict[str, Any] = json.loads(response.content)
    except (OSError, ProtocolError, ValueError) as exc:
        return Check(endpoint.name, ERRORS, 0, f"{at}{type(exc).__name__}: {exc}"[:300])
    data = payload.get("data")
    objects = count_objects(list((data or {}).values()))
    path = response.headers.get("x-read-path")
    if response.status != 200 or payload.get("errors"):
        errors = f"{at}HTTP {response.status}, errors: {payload.get('errors')}"[:500]
        return Check(endpoint.name, ERRORS, objects, errors, path)
    difference = first_difference(expected, plain(data, endpoint.name))
    if difference:
        return Check(endpoint.name, DIFFERENT, objects, f"{at}{difference}", path)
    return Check(endpoint.name, OK, objects, None, path)


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
    endpoints = [endpoint for endpoint in endpoints if workload.serves(endpoint.name)]
    variants = workload.variants(subject)
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
        await reset(workload, pool, subject)
        verdict = sanity.verdict(implementation)
        results.append(Result(workload.name, implementation, measurement, verdict, variants))
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
            await reset(workload, pool, subject)
            name = f"{implementation} @{share:.0%}"
            results.append(Result(workload.name, name, steady, verdict, variants))
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
