"""Tracing and the request log through the real app: the spans of a request (HTTP, the
operation, each SQL statement, each DataLoader batch), their parent links and attributes,
a caller's `traceparent` continued, and one JSON line per request carrying the trace id."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from server.logging import JsonLineFormatter
from server.settings import Settings
from tests.conftest import bearer, serving

JOBS = "query Jobs($first: Int) { jobs(first: $first) { nodes { id title employer { name } } } }"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """An in-memory exporter on the process's tracer provider (installed here, once)."""
    memory = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture(params=["compiled", "resolvers"])
async def traced(
    request: pytest.FixtureRequest, settings: Settings, database_url: str,
    exporter: InMemorySpanExporter,
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The app made after tracing is on (so its engine is instrumented), on each read path."""
    path = str(request.param)
    app_settings = dataclasses.replace(settings, compiled_reads=path == "compiled")
    async with serving(app_settings, database_url) as http:
        yield http, path


def one(found: list[ReadableSpan], name: str) -> ReadableSpan:
    matching = [span for span in found if span.name == name]
    assert len(matching) == 1, [span.name for span in found]
    return matching[0]


async def test_a_request_is_one_trace_of_nested_spans(
    traced: tuple[httpx.AsyncClient, str], settings: Settings, spans: InMemorySpanExporter
) -> None:
    http, path = traced
    response = await http.post(
        "/graphql",
        json={"query": JOBS, "variables": {"first": 3}},
        headers={**bearer(settings, "admin"), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
    )
    assert response.status_code == 200 and "errors" not in response.json()
    found = list(spans.get_finished_spans())
    assert {f"{span.context.trace_id:032x}" for span in found} == {TRACE_ID}

    request = one(found, "POST /graphql")
    assert request.kind is SpanKind.SERVER
    assert request.parent is not None and f"{request.parent.span_id:016x}" == PARENT_ID
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200

    operation = one(found, "query Jobs")
    assert operation.parent is not None and operation.parent.span_id == request.context.span_id
    attributes = dict(operation.attributes or {})
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["graphql.operation.name"] == "Jobs"
    assert attributes["laborhub.role"] == "admin"
    assert attributes["laborhub.read_path"] == path
    assert len(str(attributes["graphql.document.sha256"])) == 64

    statements = [span for span in found if span.kind is SpanKind.CLIENT]
    below = {operation.context.span_id} | {
        span.context.span_id for span in found if span.name == "dataloader batch"
    }
    assert statements, [span.name for span in found]
    for statement in statements:
        assert statement.parent is not None and statement.parent.span_id in below
        assert (statement.attributes or {}).get("db.system") == "postgresql"
    if path == "compiled":
        assert len(statements) == 1
        assert not [span for span in found if span.name == "dataloader batch"]
    else:
        batch = one(found, "dataloader batch")
        assert batch.attributes is not None
        assert batch.attributes["laborhub.loader"] == "row Employer"
        assert 1 <= int(batch.attributes["laborhub.batch_size"]) <= 3  # type: ignore[arg-type]


async def test_a_trace_sampled_out_upstream_makes_no_spans(
    traced: tuple[httpx.AsyncClient, str], settings: Settings, spans: InMemorySpanExporter
) -> None:
    """A caller's trace that is not sampled (flags 00): the answer is the same, no span of
    it is recorded, and the next sampled request is traced whole (no span stack left over)."""
    http, _path = traced
    headers = bearer(settings, "admin")
    body = {"query": JOBS, "variables": {"first": 3}}
    unsampled = await http.post(
        "/graphql", json=body, headers={**headers, "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-00"}
    )
    assert unsampled.status_code == 200 and "errors" not in unsampled.json()
    assert list(spans.get_finished_spans()) == []
    sampled = await http.post(
        "/graphql", json=body, headers={**headers, "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    )
    assert sampled.json() == unsampled.json()
    found = list(spans.get_finished_spans())
    one(found, "query Jobs")
    assert [span for span in found if span.kind is SpanKind.CLIENT]


async def test_spans_hold_no_values(
    traced: tuple[httpx.AsyncClient, str], settings: Settings, spans: InMemorySpanExporter
) -> None:
    """Variables and results appear in no span: statements carry placeholders, not values."""
    http, _path = traced
    keyword = "秘密的关键词-7f3a"
    query = "query Find($k: String) { workers(first: 2, filter: {keyword: $k}) { nodes { id } } }"
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"k": keyword}},
        headers=bearer(settings, "admin"),
    )
    assert response.status_code == 200
    found = spans.get_finished_spans()
    assert found
    for span in found:
        for value in (span.attributes or {}).values():
            assert keyword not in str(value), span.name


async def test_one_log_line_per_request_with_its_trace(
    traced: tuple[httpx.AsyncClient, str], settings: Settings, spans: InMemorySpanExporter,
) -> None:
    http, path = traced
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonLineFormatter().format(record))

    logger = logging.getLogger("laborhub.request")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = await http.post(
            "/graphql", json={"query": JOBS, "variables": {"first": 2}},
            headers=bearer(settings, "admin"),
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert response.status_code == 200
    [line] = [json.loads(text) for text in lines]
    request = one(list(spans.get_finished_spans()), "POST /graphql")
    assert line["trace_id"] == f"{request.context.trace_id:032x}"
    assert line["span_id"] == f"{request.context.span_id:016x}"
    assert line["operation"] == "query Jobs"
    assert line["status"] == 200
    assert line["role"] == "admin"
    assert line["read_path"] == path
    assert line["sql_statements"] >= 1
    assert line["duration_ms"] > 0
    assert "variables" not in line and "bench" not in json.dumps(line)
