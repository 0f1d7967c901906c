"""Metrics for Prometheus, served at `/metrics` in its text format.

What is measured (names as Prometheus shows them):

- `laborhub_graphql_operation_duration_seconds{type, operation, outcome}`: a histogram of each
  GraphQL operation's time (its `_count` is the number of operations). `outcome` is `ok` (no
  error), `error` (executed, with errors) or `rejected` (refused before it ran: a malformed,
  invalid, too costly or unauthorised request). `operation` is the operation's name, the first
  `MAX_OPERATION_NAMES` distinct ones a process sees; later names count as `_other`, since
  clients choose names and every name is a series.
- `laborhub_graphql_errors_total{type, operation, code}`: errors in answers, by their
  `extensions.code` (`INTERNAL_SERVER_ERROR` for masked ones).
- `laborhub_http_request_duration_seconds{status}`: every `/graphql` request, including those
  refused before any operation (405, 406, 413, 429...).
- `laborhub_http_request_sql_statements`: the SQL statements each request sent.
- `laborhub_db_pool_connections{pool, state}` (`in_use`, `idle`) and
  `laborhub_db_pool_waiting{pool}`, for the SQLAlchemy engine's pool (`engine`) and the
  compiled reads' pool (`statements`), and the read replica's (`replica_engine`,
  `replica_statements`): sampled every second and when scraped.
- `laborhub_dataloader_batch_size{loader}` (see `resolvers.metrics`).
- the process's CPU, memory and file descriptors, and Python's garbage collections.

Why not the OpenTelemetry SDK's meters, as for traces: recording one histogram value through
them costs 12-20 µs of CPU, about a tenth of a whole one-row read; these cost 1-2 µs. An
OpenTelemetry collector scrapes this endpoint to forward the same metrics over OTLP.

With `laborhub serve --workers N` the workers share their metrics through files in
`PROMETHEUS_MULTIPROC_DIR` (which `serve` sets up), so any worker's `/metrics` shows all of
them; the pool gauges are the sum over the live workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from db.statement_pool import StatementPool
from resolvers.database import Database

MAX_OPERATION_NAMES = 200
OTHER_OPERATION = "_other"
ANONYMOUS_OPERATION = "_anonymous"
POOL_SAMPLE_SECONDS = 1.0

SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNTS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100)

OPERATION_SECONDS = Histogram(
    "laborhub_graphql_operation_duration_seconds",
    "Time to answer one GraphQL operation.",
    ["type", "operation", "outcome"],
    buckets=SECONDS,
)
GRAPHQL_ERRORS = Counter(
    "laborhub_graphql_errors",
    "Errors in GraphQL answers, by extensions.code.",
    ["type", "operation", "code"],
)
HTTP_SECONDS = Histogram(
    "laborhub_http_request_duration_seconds",
    "Time to answer one /graphql HTTP request.",
    ["status"],
    buckets=SECONDS,
)
HTTP_STATEMENTS = Histogram(
    "laborhub_http_request_sql_statements",
    "SQL statements one /graphql HTTP request sent.",
    buckets=COUNTS,
)
POOL_CONNECTIONS = Gauge(
    "laborhub_db_pool_connections",
    "Database connections of a pool, in use or idle.",
    ["pool", "state"],
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "laborhub_db_pool_waiting",
    "Requests waiting for a connection of a pool.",
    ["pool"],
    multiprocess_mode="livesum",
)


class OperationMetrics:
    """Records operations, with the series each label set needs made once and kept (a series'
    lookup by labels costs more than recording into it)."""

    def __init__(self, max_names: int = MAX_OPERATION_NAMES) -> None:
        self.max_names = max_names
        self._names: set[str] = set()
        self._durations: dict[tuple[str, str, str], Any] = {}
        self._requests: dict[int, Any] = {}

    def operation_label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS_OPERATION
        if name in self._names:
            return name
        if len(self._names) < self.max_names:
            self._names.add(name)
            return name
        return OTHER_OPERATION

    def observe_operation(
        self,
        kind: str,
        name: str | None,
        seconds: float,
        *,
        executed: bool,
        error_codes: Iterable[str],
    ) -> None:
        operation = self.operation_label(name)
        codes = list(error_codes)
        outcome = "rejected" if not executed else "error" if codes else "ok"
        key = (kind, operation, outcome)
        series = self._durations.get(key)
        if series is None:
            series = self._durations[key] = OPERATION_SECONDS.labels(*key)
        series.observe(seconds)
        for code in codes:
            GRAPHQL_ERRORS.labels(kind, operation, code).inc()

    def observe_request(self, status: int, seconds: float, statements: int) -> None:
        series = self._requests.get(status)
        if series is None:
            series = self._requests[status] = HTTP_SECONDS.labels(str(status))
        series.observe(seconds)
        HTTP_STATEMENTS.observe(statements)


def sample_pools(
    engine: AsyncEngine, statements: StatementPool | None, prefix: str = ""
) -> None:
    """Set the pool gauges from the pools as they are now (`prefix`: `replica_` for the read
    replica's)."""
    pool: Any = engine.pool
    in_use = pool.checkedout() if hasattr(pool, "checkedout") else 0
    idle = pool.checkedin() if hasattr(pool, "checkedin") else 0
    name = f"{prefix}engine"
    POOL_CONNECTIONS.labels(name, "in_use").set(in_use)
    POOL_CONNECTIONS.labels(name, "idle").set(idle)
    POOL_WAITING.labels(name).set(_engine_waiters(pool))
    if statements is not None:
        name = f"{prefix}statements"
        POOL_CONNECTIONS.labels(name, "in_use").set(statements.in_use)
        POOL_CONNECTIONS.labels(name, "idle").set(statements.idle_connections)
        POOL_WAITING.labels(name).set(statements.waiting)


def sample_database(database: Database) -> None:
    """The pools of the primary and, when there is one, of the read replica."""
    sample_pools(database.engine, database.statements)
    if database.replica is not None:
        sample_pools(database.replica.engine, database.replica.statements, "replica_")


def _engine_waiters(pool: Any) -> int:
    """Checkouts waiting on SQLAlchemy's async queue pool. It has no public count: its queue is
    an asyncio.Queue, whose getters are the waiters (0 if that ever changes)."""
    queue = getattr(getattr(pool, "_pool", None), "__dict__", {}).get("_queue")
    getters = getattr(queue, "_getters", ())
    return sum(1 for waiter in getters if not waiter.done())


@contextlib.asynccontextmanager
async def sampling_pools(database: Database) -> AsyncIterator[None]:
    """Sample the database's pools every `POOL_SAMPLE_SECONDS` while in the block."""

    async def sample_forever() -> None:
        while True:
            sample_database(database)
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample_forever(), name="laborhub pool metrics")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if is_multiprocess():
            prometheus_multiprocess.mark_process_dead(os.getpid())


def is_multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition_registry() -> CollectorRegistry:
    """What `/metrics` shows: this process's registry, or every worker's files."""
    if not is_multiprocess():
        return REGISTRY
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry)
    return registry


async def metrics_endpoint(request: Request) -> Response:
    state = request.state
    sample_database(state.database)
    return Response(generate_latest(exposition_registry()), media_type=CONTENT_TYPE_LATEST)
