"""The /graphql endpoint and the app's probes over HTTP, with a throwaway schema (no database)."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from db import session as db_session
from server.app import create_app
from server.graphql_http import GraphQLEndpoint, negotiate
from server.settings import Settings

GRJ = "application/graphql-response+json"
SECRET = "password=hunter2 in an internal message"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def greeting(self, info: strawberry.Info) -> str:
        return str(info.context["greeting"])

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError(SECRET)

    @strawberry.field
    def refused(self) -> str | None:
        raise GraphQLError("Not allowed here", extensions={"code": "FORBIDDEN"})

    @strawberry.field
    def two_statements(self) -> int:
        db_session._count_statement()
        db_session._count_statement()
        return 2


@strawberry.type
class Mutation:
    @strawberry.mutation
    def echo(self, text: str) -> str:
        return text


test_schema = strawberry.Schema(query=Query, mutation=Mutation)


def make_context(_request: Request) -> dict[str, str]:
    return {"greeting": "from the context"}


def endpoint_app(*, graphiql: bool = True) -> Starlette:
    endpoint = GraphQLEndpoint(test_schema, make_context, graphiql=graphiql, expose_sql_stats=True)
    return Starlette(routes=[Route("/graphql", endpoint)])


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=endpoint_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def post(
    client: httpx.AsyncClient, body: object, accept: str | None = GRJ, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


# --- content negotiation -------------------------------------------------------------------


async def test_graphql_response_json_when_accepted(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRJ}; charset=utf-8"
    assert response.content == b'{"data":{"hello":"hello world"}}'


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (f"application/json, {GRJ}", GRJ),
        (f"{GRJ}; charset=utf-8", GRJ),
        (f"{GRJ};q=0.5, application/json", "application/json"),
        (f"application/json;q=0.9, {GRJ}", GRJ),
        ("text/html, */*;q=0.8", "application/json"),
    ],
)
async def test_negotiated_content_type(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    response = await post(client, {"query": "{ hello }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello }"}, accept="text/plain")
    assert response.status_code == 406
    assert "application/json" in response.json()["errors"][0]["message"]


def test_negotiate_refuses_zero_quality() -> None:
    assert negotiate(f"{GRJ};q=0, application/json;q=0") is None


# --- request errors: 400 and no data under graphql-response+json, 200 under json -----------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "{"}, "Syntax Error"),
        ({"query": "{ nope }"}, "Cannot query field 'nope'"),
        ({"query": "query Q($n: String!) { hello(name: $n) }", "variables": {"n": None}}, "$n"),
        ({"query": "query A { hello } query B { hello }"}, "Must provide operation name"),
        ({"query": "query A { hello }", "operationName": "Z"}, "Unknown operation named 'Z'"),
    ],
)
async def test_request_errors(client: httpx.AsyncClient, body: object, message: str) -> None:
    strict = await post(client, body, accept=GRJ)
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert message in strict.json()["errors"][0]["message"]

    legacy = await post(client, body, accept="application/json")
    assert legacy.status_code == 200
    assert "data" not in legacy.json()
    assert message in legacy.json()["errors"][0]["message"]


async def test_operation_name_selects_the_operation(client: httpx.AsyncClient) -> None:
    body = {"query": "query A { hello } query B { greeting }", "operationName": "B"}
    response = await post(client, body)
    assert response.json() == {"data": {"greeting": "from the context"}}


async def test_field_error_keeps_data_and_status_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello refused }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"hello": "hello world", "refused": None}
    assert body["errors"] == [
        {
            "message": "Not allowed here",
            "locations": [{"line": 1, "column": 9}],
            "path": ["refused"],
            "extensions": {"code": "FORBIDDEN"},
        }
    ]


# --- unexpected exceptions are masked and logged --------------------------------------------


async def test_unexpected_exception_is_masked_and_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await post(client, {"query": "{ hello boom }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"hello": "hello world", "boom": None}
    [error] = body["errors"]
    match = re.fullmatch(r"Internal server error \(error id: ([0-9a-f]{32})\)", error["message"])
    assert match is not None
    assert error["path"] == ["boom"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": match[1]}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text

    [record] = [r for r in caplog.records if r.name == "laborhub.errors"]
    assert getattr(record, "error_id", None) == match[1]
    assert record.exc_info is not None


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_strawberry_does_not_log_the_traceback_again(client: httpx.AsyncClient) -> None:
    root_handler = RecordingHandler()
    logging.getLogger().addHandler(root_handler)
    try:
        await post(client, {"query": "{ boom }"})
    finally:
        logging.getLogger().removeHandler(root_handler)
    errors = [r.name for r in root_handler.records if r.levelno >= logging.ERROR]
    assert errors == ["laborhub.errors"]


async def test_crash_outside_the_schema_is_a_masked_500() -> None:
    def broken_context(_request: Request) -> None:
        raise RuntimeError(SECRET)

    app = Starlette(routes=[Route("/graphql", GraphQLEndpoint(test_schema, broken_context))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await post(http, {"query": "{ hello }"})
    assert response.status_code == 500
    assert response.json()["errors"][0]["message"].startswith("Internal server error (error id: ")
    assert "hunter2" not in response.text


# --- malformed requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{ "not a JSON', "not valid JSON"),
        (b"", "body is empty"),
        (b"1", "must be a JSON object (or an array of them, a batch), not a number"),
        (b"[1]", "Batch entry 0 must be a JSON object, not a number"),
        (b"[]", "The batch is empty"),
        (b'[{"query": 0}]', "Batch entry 0: Parameter 'query' must be a string"),
        (b'{"notquery": "{ hello }"}', "Missing parameter 'query'"),
        (b'{"query": 0}', "'query' must be a string, not a number"),
        (b'{"query": "{ hello }", "variables": "x"}', "'variables' must be an object"),
        (b'{"query": "{ hello }", "operationName": false}', "'operationName' must be a string"),
        (b'{"query": "{ hello }", "extensions": []}', "'extensions' must be an object"),
    ],
)
@pytest.mark.parametrize("accept", [GRJ, "application/json"])
async def test_malformed_body_is_400(
    client: httpx.AsyncClient, content: bytes, message: str, accept: str
) -> None:
    response = await client.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", "accept": accept},
    )
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


async def test_null_optional_parameters_are_fine(client: httpx.AsyncClient) -> None:
    body = {"query": "{ hello }", "variables": None, "operationName": None, "extensions": None}
    assert (await post(client, body)).json() == {"data": {"hello": "hello world"}}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_other_content_types_are_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        "/graphql", content=b'{"query":"{ hello }"}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["message"]


async def test_missing_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b'{"query":"{ hello }"}')
    assert response.status_code == 415


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    padding = " " * (1024 * 1024)
    response = await post(client, {"query": "{ hello }" + padding})
    assert response.status_code == 413
    assert "limit" in response.json()["errors"][0]["message"]


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


# --- GET ------------------------------------------------------------------------------------


async def test_get_query_with_variables(client: httpx.AsyncClient) -> None:
    params = {
        "query": "query Q($n: String!) { hello(name: $n) }",
        "variables": json.dumps({"n": "GET"}),
    }
    response = await client.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello GET"}}


async def test_get_mutation_is_405(client: httpx.AsyncClient) -> None:
    params = {"query": 'mutation { echo(text: "x") }'}
    response = await client.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]


async def test_mutation_over_post(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": 'mutation { echo(text: "x") }'})
    assert response.json() == {"data": {"echo": "x"}}


async def test_get_with_bad_variables_is_400(client: httpx.AsyncClient) -> None:
    params = {"query": "{ hello }", "variables": "{nope"}
    response = await client.get("/graphql", params=params)
    assert response.status_code == 400
    assert "'variables' is not valid JSON" in response.json()["errors"][0]["message"]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_browser_get_serves_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_no_graphiql_when_disabled() -> None:
    transport = httpx.ASGITransport(app=endpoint_app(graphiql=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 400
    assert "graphiql" not in response.text.lower()


# --- per-request SQL statement count ----------------------------------------------------------


async def test_sql_statement_header(client: httpx.AsyncClient) -> None:
    assert (await post(client, {"query": "{ hello }"})).headers["x-sql-statements"] == "0"
    counted = await post(client, {"query": "{ a: twoStatements b: twoStatements }"})
    assert counted.headers["x-sql-statements"] == "4"


# --- the app ---------------------------------------------------------------------------------


APP_SETTINGS = Settings(secret_key=base64.b64encode(b"k" * 32).decode())


def build_test_context(
    _database: object, _request: Request | None, _viewer: object = None
) -> dict[str, str]:
    return {"greeting": "from the app"}


UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/nothing"


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, as a server would (httpx's transport doesn't)."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_app_probes_and_graphql_without_a_database() -> None:
    settings = replace(APP_SETTINGS, cors_origins=("https://web.example",))
    app = create_app(
        settings, UNREACHABLE_DB, schema=test_schema, context_builder=build_test_context
    )
    async with running(app) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}

        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert "database not reachable" in ready.json()["reason"]

        response = await http.post("/graphql", json={"query": "{ greeting }"})
        assert response.json() == {"data": {"greeting": "from the app"}}

        preflight = await http.options(
            "/graphql",
            headers={
                "origin": "https://web.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://web.example"


async def test_production_app_hides_graphiql_and_sql_stats() -> None:
    settings = replace(APP_SETTINGS, env="production", expose_sql_stats=False)
    app = create_app(
        settings, UNREACHABLE_DB, schema=test_schema, context_builder=build_test_context
    )
    async with running(app) as http:
        page = await http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
        assert "graphiql" not in page.text.lower()
        response = await http.post("/graphql", json={"query": "{ hello }"})
        assert response.status_code == 200
        assert "x-sql-statements" not in response.headers
