"""Fuzzing: schemathesis in GraphQL mode against the real app served by uvicorn.

The app runs under uvicorn on 127.0.0.1 (a free port, a background thread) over a database of
its own, seeded like the suite's. Schemathesis loads the schema by introspection and generates
documents for every root field (each query and mutation), valid ones (positive mode) and ones
that break the schema (negative mode), with a bounded number of examples and a fixed seed, once
per principal: anonymous, admin, worker.

Every response must hold:

- HTTP status below 500, and a JSON body;
- no internal text in the body (a traceback, a Python file name, a database driver's name);
- no `errors` entry with `extensions.code == "INTERNAL_SERVER_ERROR"`: that is what an unexpected
  exception becomes, i.e. a bug.

Errors the API raises on purpose (`BAD_USER_INPUT` for `first: -5`, a junk cursor, an unknown
region code; validation errors; cost limits) are expected answers to bad input and pass.
Schemathesis' own check ST113 would count those as server errors, hence these checks instead.
The test collects every distinct failure of a run and reports each with its document and the
server's logged traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode, Response
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes

from server.app import create_app
from server.settings import Settings
from tests.conftest import Claims, bearer, seeded_database
from tests.hypothesis_support import hypothesis_storage  # noqa: F401 (a fixture)
from tests.live_server import uvicorn_in_thread

# Examples per root field and generation mode, per principal. 16 root fields x 2 modes x 3
# principals x these examples is the whole run's request count.
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 25}

PRINCIPALS: dict[str, tuple[str, Claims] | None] = {
    "anonymous": None,
    "admin": ("admin", {}),
    "worker": ("worker", {"worker_id": "1"}),
}

# Text that must never reach a client: it comes from a traceback, Python or the database layer.
INTERNAL_MARKERS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "site-packages",
    '.py", line',
    "postgresql://",
)

REQUEST_TIMEOUT_SECONDS = 30.0


# --- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_database_url(settings: Settings, database_url: str) -> Iterator[str]:
    """A database of its own, seeded like `database_url`, on the same server.

    The fuzzer calls mutations (consents, reveals: audit events) with random arguments; these
    rows stay out of the database the other tests count rows in. (It is created and dropped
    over a connection to `database_url`: no other database on the server is assumed.)
    """
    with seeded_database(database_url, settings) as url:
        yield url


class ErrorLog(logging.Handler):
    """Keeps the ERROR records the server logs during the run (with their tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def since(self, mark: int) -> list[logging.LogRecord]:
        return self.records[mark:]


def describe(records: list[logging.LogRecord], error_id: str | None) -> str | None:
    """The server's log of an error (by error id, else the latest), its traceback condensed."""
    matching = [r for r in records if error_id is None or getattr(r, "error_id", None) == error_id]
    if not matching:
        return None
    record = matching[-1]
    text = f"{record.name}: {record.getMessage()}"
    if record.exc_info:
        text += "\n" + condense(logging.Formatter().formatException(record.exc_info))
    return text


def condense(traceback: str) -> str:
    """A traceback without library frames: the project's frames and every exception line."""
    lines = traceback.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("  File "):
            if any(part in line for part in ("site-packages", "/lib/python3", '"asyncpg/')):
                continue
            kept.append(line)
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("    ") and following.strip().strip("^~"):
                kept.append(following)
        elif line and not line.startswith((" ", "Traceback", "The above", "During handling")):
            kept.append(line)
    return "\n".join(kept)


@dataclass
class RunningServer:
    base_url: str
    errors: ErrorLog


@pytest.fixture(scope="module")
def server(settings: Settings, fuzz_database_url: str) -> Iterator[RunningServer]:
    """The real app under uvicorn on 127.0.0.1, a free port, in a background thread."""
    app = create_app(settings, fuzz_database_url)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    # Thousands of requests, most of them refused on purpose: uvicorn's access log and
    # Strawberry's log of every GraphQL error (which the app already silences, but pytest still
    # captures) would only bury a failure's report.
    quiet = [logging.getLogger(name) for name in ("uvicorn.access", "strawberry.execution")]
    for logger in quiet:
        logger.disabled = True
    try:
        with uvicorn_in_thread(app, access_log=False, log_config=None) as base_url:
            yield RunningServer(base_url, errors)
    finally:
        logging.getLogger().removeHandler(errors)
        for logger in quiet:
            logger.disabled = False


# --- the checks -------------------------------------------------------------------------------


@dataclass
class Failure:
    operation: str
    mode: str
    kind: str
    detail: str
    status: int
    query: str
    body: str
    traceback: str | None = None


@dataclass
class Findings:
    failures: dict[tuple[str, str, str], Failure] = field(default_factory=dict)
    requests: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, failure: Failure) -> None:
        # One report per operation and kind of failure: the first document that showed it.
        self.failures.setdefault((failure.operation, failure.kind, failure.detail), failure)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_response(
    case: Case,
    response: Response,
    mode: str,
    findings: Findings,
    logged: list[logging.LogRecord],
) -> None:
    """Record what is wrong with one response (nothing, for an expected answer).

    `logged`: the ERROR records the server logged while answering it.
    """
    findings.requests += 1
    query = str(case.body)
    body = response.text_lossy()
    label = case.operation.label

    def fail(kind: str, detail: str, error_id: str | None = None) -> None:
        findings.add(
            Failure(
                label,
                mode,
                kind,
                detail,
                response.status_code,
                query,
                body[:2000],
                describe(logged, error_id),
            )
        )

    if response.status_code >= 500:
        fail("5xx", f"HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError:
        fail("not JSON", ", ".join(response.headers.get("content-type", ["no content type"])))
        text = body
    else:
        text = "\n".join(_strings(payload))
        entries = (payload.get("errors") or []) if isinstance(payload, dict) else []
        for error in entries if isinstance(entries, list) else [entries]:
            extensions = (error.get("extensions") or {}) if isinstance(error, dict) else {}
            code = extensions.get("code") if isinstance(extensions, dict) else None
            # Documents that do not validate get errors without a code (HTTP 400).
            findings.count(str(code or "no code"))
            if code == "INTERNAL_SERVER_ERROR":
                path = ".".join(str(part) for part in error.get("path") or [])
                fail("INTERNAL_SERVER_ERROR", f"at {path or 'request'}", extensions.get("errorId"))
        if isinstance(payload, dict) and not payload.get("errors"):
            findings.count("data, no errors")
    for marker in INTERNAL_MARKERS:
        # Text the request itself carried may come back in an error message about it.
        if marker.lower() in text.lower() and marker.lower() not in query.lower():
            fail("internal text in the body", repr(marker))


def fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    findings: Findings,
    errors: ErrorLog,
) -> None:
    """Send `EXAMPLES[mode]` generated documents for one root field; record what fails."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case: Case) -> None:
        mark = len(errors.records)
        response = case.call(
            base_url=f"{base_url}/graphql",
            session=session,
            headers=headers,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        check_response(case, response, mode.value, findings, errors.since(mark))

    run()


def report(principal: str, findings: Findings, seconds: float) -> str:
    lines = [
        f"{principal}: {len(findings.failures)} distinct failure(s) in {findings.requests} "
        f"requests ({seconds:.1f}s)"
    ]
    for failure in findings.failures.values():
        lines += [
            "",
            f"== {failure.operation} [{failure.mode}] {failure.kind}: {failure.detail} "
            f"(HTTP {failure.status})",
            "query:",
            failure.query,
            "response:",
            failure.body,
        ]
        if failure.traceback:
            lines += ["server log:", failure.traceback]
    return "\n".join(lines)


# --- the test ---------------------------------------------------------------------------------

# Custom scalars schemathesis doesn't know: money as decimal strings, some of them junk.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.sampled_from(["", "1e400", "NaN", "-0.001", "七千"]),
    ).map(nodes.String),
)


@pytest.mark.usefixtures("hypothesis_storage")
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_fuzzing_finds_no_server_errors(
    principal: str, server: RunningServer, settings: Settings
) -> None:
    grant = PRINCIPALS[principal]
    headers = {} if grant is None else bearer(settings, grant[0], **grant[1])
    url = f"{server.base_url}/graphql"
    schema = schemathesis.graphql.from_url(url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)
    operations = [
        result.ok() if isinstance(result, Ok) else pytest.fail(f"schema: {result.err()}")
        for result in schema.get_all_operations()
    ]
    assert len(operations) >= 10, [operation.label for operation in operations]

    findings = Findings()
    started = time.monotonic()
    headers = {**headers, "accept": "application/graphql-response+json, application/json"}
    with requests.Session() as session:
        for operation in operations:
            for mode in EXAMPLES:
                fuzz(operation, mode, server.base_url, session, headers, findings, server.errors)
    summary = report(principal, findings, time.monotonic() - started)
    print(summary.splitlines()[0], "; answers:", findings.outcomes)
    if findings.failures:
        pytest.fail(summary, pytrace=False)
