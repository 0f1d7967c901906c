"""Prometheus metrics through the real app: `/metrics` counts each operation by name, type and
outcome, its errors by code, each HTTP request and its SQL statements, the DataLoader batches
and the pools. The counters are the process's, so each test compares before and after."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from db.session import create_engine, create_statement_pool
from server.metrics import OTHER_OPERATION, OperationMetrics, sample_pools
from server.settings import Settings
from tests.conftest import bearer, serving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

JOBS = "query MetricJobs { jobs(first: 3) { nodes { id title employer { name } } } }"


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def post(http: httpx.AsyncClient, query: str, headers: dict[str, str]) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": query},
        headers={"accept": "application/graphql-response+json", **headers},
    )


@pytest.fixture(params=["compiled", "resolvers"])
async def app(
    request: pytest.FixtureRequest, settings: Settings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app_settings = dataclasses.replace(settings, compiled_reads=request.param == "compiled")
    async with serving(app_settings, database_url) as http:
        yield http


async def test_operations_are_counted_by_name_type_and_outcome(
    app: httpx.AsyncClient, settings: Settings
) -> None:
    staff = bearer(settings, "admin")
    duration = "laborhub_graphql_operation_duration_seconds_count"
    ok = {"type": "query", "operation": "MetricJobs", "outcome": "ok"}
    before = await scrape(app)
    for _ in range(3):
        assert (await post(app, JOBS, staff)).status_code == 200
    invalid = await post(app, "query MetricBroken { jobs { noSuchField } }", staff)
    assert invalid.status_code == 400
    after = await scrape(app)

    assert value(after, duration, **ok) - value(before, duration, **ok) == 3
    rejected = {"type": "query", "operation": "MetricBroken", "outcome": "rejected"}
    assert value(after, duration, **rejected) - value(before, duration, **rejected) == 1
    code = {"type": "query", "operation": "MetricBroken", "code": "GRAPHQL_VALIDATION_FAILED"}
    errors = "laborhub_graphql_errors_total"
    assert value(after, errors, **code) - value(before, errors, **code) == 1
    http_count = "laborhub_http_request_duration_seconds_count"
    assert value(after, http_count, status="200") - value(before, http_count, status="200") == 3
    assert value(after, http_count, status="400") - value(before, http_count, status="400") == 1
    statements = "laborhub_http_request_sql_statements_sum"
    assert value(after, statements) > value(before, statements)


async def test_an_unparsable_request_counts_as_a_rejected_unknown_operation(
    app: httpx.AsyncClient,
) -> None:
    labels = {"type": "unknown", "operation": "_anonymous", "outcome": "rejected"}
    name = "laborhub_graphql_operation_duration_seconds_count"
    before = await scrape(app)
    response = await post(app, "{ jobs(", {})
    assert response.status_code == 400
    after = await scrape(app)
    assert value(after, name, **labels) - value(before, name, **labels) == 1


async def test_dataloader_batches_are_measured_on_the_resolver_path(
    settings: Settings, database_url: str
) -> None:
    resolver_settings = dataclasses.replace(settings, compiled_reads=False)
    async with serving(resolver_settings, database_url) as http:
        before = await scrape(http)
        response = await post(http, JOBS, bearer(settings, "admin"))
        assert response.status_code == 200 and "errors" not in response.json()
        after = await scrape(http)
    name = "laborhub_dataloader_batch_size_count"
    grown = {
        dict(labels)["loader"]
        for (sample, labels), count in after.items()
        if sample == name and count > before.get((sample, labels), 0.0)
    }
    assert grown == {"row Employer"}
    batch = frozenset({("loader", "row Employer")})
    keys = after[("laborhub_dataloader_batch_size_sum", batch)] - before.get(
        ("laborhub_dataloader_batch_size_sum", batch), 0.0
    )
    assert 1 <= keys <= 3  # the page's three jobs' employers, in one batch


async def test_pool_gauges_show_connections_in_use(app: httpx.AsyncClient) -> None:
    """Scraped between requests: nothing in use or waiting, the connections made are idle."""
    await post(app, JOBS, {})
    samples = await scrape(app)
    pools = {dict(labels)["pool"] for name, labels in samples if name == "laborhub_db_pool_waiting"}
    assert "engine" in pools
    for pool in pools:
        assert value(samples, "laborhub_db_pool_waiting", pool=pool) == 0
        assert value(samples, "laborhub_db_pool_connections", pool=pool, state="in_use") == 0


async def test_waiting_checkouts_show_in_the_pool_gauges(database_url: str) -> None:
    """Both pools, each of one connection held while another checkout waits for it."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    statements = create_statement_pool(database_url, size=1)
    try:
        async with statements.acquire(), engine.connect() as held:
            await held.execute(text("SELECT 1"))
            waiters = [
                asyncio.create_task(statements.take()),
                asyncio.create_task(engine.connect().start()),
            ]
            await asyncio.sleep(0.1)
            sample_pools(engine, statements)
            samples = exposed()
            for pool in ("engine", "statements"):
                assert value(samples, "laborhub_db_pool_waiting", pool=pool) == 1
                assert value(
                    samples, "laborhub_db_pool_connections", pool=pool, state="in_use"
                ) == 1
        statements.give_back(await waiters[0])
        await (await waiters[1]).close()
        sample_pools(engine, statements)
        samples = exposed()
        for pool in ("engine", "statements"):
            assert value(samples, "laborhub_db_pool_waiting", pool=pool) == 0
            assert value(samples, "laborhub_db_pool_connections", pool=pool, state="in_use") == 0
            assert value(samples, "laborhub_db_pool_connections", pool=pool, state="idle") == 1
    finally:
        await statements.close()
        await engine.dispose()


def exposed() -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(generate_latest(REGISTRY).decode())
        for sample in family.samples
    }


def test_operation_names_past_the_limit_share_one_series() -> None:
    metrics = OperationMetrics(max_names=2)
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label("B") == "B"
    assert metrics.operation_label("C") == OTHER_OPERATION
    assert metrics.operation_label("A") == "A"
    assert metrics.operation_label(None) == "_anonymous"
