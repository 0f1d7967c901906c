"""Abuse limits: document limits, query cost, batches, rate limits, production hardening, CSRF,
401 mapping."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError, parse
from graphql.language.parser import Parser
from graphql.validation.validation_context import ValidationContext
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from resolvers.access import Role, Viewer
from schema import schema as real_schema
from server.auth import AuthenticationError, mint_token
from server.graphql_http import GraphQLEndpoint, bearer_challenge, select_operation
from server.limits import DEFAULT_LIST_SIZE, default_document_checks, query_cost
from server.operation_checks import CheckedOperation
from server.ratelimit import TokenBucketLimiter, limiter_from_settings, retry_after_header
from server.settings import Settings
from tests.conftest import answer, serving
from tests.wrappers import calling_first

GRJ = "application/graphql-response+json"

# employers 1 + nodes 1 + jobs 50 + nodes 50 + applications 5 000 + nodes 5 000 + id 500 000
EXPENSIVE = """{ employers(first: 50) { nodes { jobs(first: 100) { nodes {
  applications(first: 100) { nodes { id } } } } } } }"""
EXPENSIVE_COST = 510_102


@pytest.fixture(scope="module")
async def limited(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Explicit limits, whatever the shared test settings say; no rate limit."""
    async with serving(
        replace(settings, max_query_cost=20_000, max_batch_size=3, rate_limit_per_minute=0),
        database_url,
    ) as client:
        yield client


@pytest.fixture(scope="module")
async def production(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(
        replace(settings, env="production", expose_sql_stats=True, rate_limit_per_minute=0),
        database_url,
    ) as client:
        yield client


async def post(
    client: httpx.AsyncClient, body: object, accept: str = GRJ, **headers: str
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": accept, **headers})


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    return dict(error)


# --- document limits ---------------------------------------------------------------------------


def fresh(document: str) -> str:
    """`document` with a comment no other request sent, so no cache has it."""
    return f"# {uuid.uuid4()}\n{document}"


FRAGMENT_BOMB = "{ ...F12 } fragment F0 on Query { __typename } " + " ".join(
    f"fragment F{i} on Query {{ ...F{i - 1} a{i}: regions {{ ...F{i - 1} }} }}"
    for i in range(1, 13)
)


@pytest.mark.parametrize(
    ("document", "message", "code"),
    [
        ("{ " + "__typename " * 20 + "}", None, None),
        (
            "{ " + "__typename " * 21 + "}",
            "Field '__typename' is selected 21 times at the same place, over the limit of 20 "
            "(max repeated fields): select it once.",
            "QUERY_TOO_COMPLEX",
        ),
        # fields merged from several places count together; a fragment spread twice, once
        (
            "{ regions { " + "code " * 11 + "} regions { ...R ...R } } "
            "fragment R on Region { " + "code " * 10 + "}",
            "Field 'regions.code' is selected 21 times at the same place",
            "QUERY_TOO_COMPLEX",
        ),
        (
            "{ jobs { nodes { ...J } } } fragment J on Job { " + "title " * 21 + "}",
            "Field 'title' in fragment 'J' is selected 21 times",
            "QUERY_TOO_COMPLEX",
        ),
        # fragments count each time they are spread: 2^12 spreads of F0
        (
            FRAGMENT_BOMB,
            "The document makes more than 2000 selections (fields and fragment spreads",
            "QUERY_TOO_COMPLEX",
        ),
        ("{ " + "a: __typename " * 2000 + "}", "more than 5000 tokens", "QUERY_TOO_COMPLEX"),
        ("#\n" * 1001 + "{ __typename }", "more than 1000 comments", "QUERY_TOO_COMPLEX"),
        (
            "{ __typename }" + " " * 70_000,
            "characters long, over the limit of 65536 (max characters): send a shorter one",
            "QUERY_TOO_COMPLEX",
        ),
    ],
    ids=[
        "20 repeats",
        "21 repeats",
        "merged",
        "in a fragment",
        "fragment bomb",
        "tokens",
        "comments",
        "characters",
    ],
)
async def test_document_limits(
    limited: httpx.AsyncClient, document: str, message: str | None, code: str | None
) -> None:
    response = await post(limited, {"query": fresh(document) if message else document})
    if message is None:
        assert response.status_code == 200 and "errors" not in response.json(), response.json()
        return
    assert response.status_code == 400
    error = only_error(response)
    assert message in error["message"]
    assert error.get("extensions", {}).get("code") == code
    assert response.headers["x-sql-statements"] == "0"


async def test_depth_and_aliases_are_limited_on_the_endpoint_whatever_the_schema() -> None:
    endpoint = GraphQLEndpoint(tiny_schema, lambda _request: {"calls": []})
    aliases = "{ " + " ".join(f"a{i}: items" for i in range(31)) + " }"
    async with client_for(endpoint) as client:
        response = await post(client, {"query": aliases})
    assert response.status_code == 400
    assert only_error(response)["message"] == "31 aliases found. Allowed: 30"


async def test_validation_errors_are_bounded(limited: httpx.AsyncClient) -> None:
    document = "{ " + " ".join(f"nope{i}" for i in range(100)) + " }"
    response = await post(limited, {"query": document})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 21
    assert errors[-1]["message"] == (
        "Too many validation errors, error limit reached. Validation aborted."
    )


async def test_a_document_is_parsed_and_validated_once(
    limited: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By the endpoint, with every limit; Strawberry executes that document as it is, and the
    same text sent again is neither parsed nor validated."""
    counts = {"parsed": 0, "validated": 0}

    def parsing() -> None:
        counts["parsed"] += 1

    def validating() -> None:
        counts["validated"] += 1

    monkeypatch.setattr(Parser, "parse_document", calling_first(parsing, Parser.parse_document))
    monkeypatch.setattr(
        ValidationContext, "__init__", calling_first(validating, ValidationContext.__init__)
    )
    query = fresh('{ region(code: "440000") { name } }')
    for _ in range(2):
        response = await post(limited, {"query": query})
        assert answer(response) == {"data": {"region": {"name": "广东省"}}}
        assert counts == {"parsed": 1, "validated": 1}


# --- query cost --------------------------------------------------------------------------------


async def test_cost_over_the_limit_is_refused_before_any_sql(limited: httpx.AsyncClient) -> None:
    response = await post(limited, {"query": EXPENSIVE})
    assert response.status_code == 400
    error = only_error(response)
    assert error["message"] == (
        f"Query cost {EXPENSIVE_COST} exceeds the limit of 20000 "
        "(lists multiply: lower first/last)."
    )
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert response.headers["x-sql-statements"] == "0"

    legacy = await post(limited, {"query": EXPENSIVE}, accept="application/json")
    assert legacy.status_code == 200
    assert only_error(legacy)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_cost_uses_the_variables(limited: httpx.AsyncClient) -> None:
    query = """query ($n: Int) { jobs(first: $n) { nodes { applications(first: $n) {
      nodes { id } } } } }"""  # 1 + 1 + n + n + n·n
    small = await post(limited, {"query": query, "variables": {"n": 10}})
    assert small.status_code == 200 and "errors" not in small.json(), small.json()
    large = await post(limited, {"query": query, "variables": {"n": 150}})
    assert "Query cost 22802 exceeds" in only_error(large)["message"]


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    schema = real_schema._schema
    return query_cost(schema, document, select_operation(document, None), variables or {})


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("{ __typename }", None, 1),
        # the connection's own fields once; its edges/nodes times the page (default 20)
        ("{ jobs { totalCount pageInfo { hasNextPage } edges { node { id } } } }", None, 45),
        ("{ jobs(last: 5) { nodes { id title } } }", None, 12),
        # nested pages compound
        (
            "{ workers(first: 100) { edges { node { applications(first: 50) "
            "{ totalCount nodes { id } } } } } }",
            None,
            5402,
        ),
        # plain lists: the length of a list argument, else DEFAULT_LIST_SIZE
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', None, 4),
        ("{ regions { code children { code } } }", None, 1 + 20 + 20 + 20 * 20),
        # fragments cost what they select where they are spread; @skip/@include apply
        (
            "query ($n: Int) { workers(first: $n) { ...W } } "
            "fragment W on WorkerConnection { nodes { id } }",
            {"n": 7},
            9,
        ),
        ("query ($s: Boolean!) { regions @skip(if: $s) { code } }", {"s": True}, 0),
        # introspection costs 1: it never reaches the database
        ("{ __schema { types { fields { args { name } } } } }", None, 1),
    ],
)
def test_cost_model(query: str, variables: dict[str, Any] | None, expected: int) -> None:
    assert DEFAULT_LIST_SIZE == 20
    assert cost(query, variables) == expected


# --- batches -----------------------------------------------------------------------------------


async def test_batch_runs_each_operation_in_order(limited: httpx.AsyncClient) -> None:
    batch = [
        {"query": '{ region(code: "440000") { name } }'},
        {"query": "{ nope }"},
        {
            "query": "query ($c: String!) { region(code: $c) { code } }",
            "variables": {"c": "110000"},
        },
    ]
    response = await post(limited, batch)
    assert response.status_code == 200
    first, second, third = map(answer, response.json())
    assert first == {"data": {"region": {"name": "广东省"}}}
    assert "data" not in second and "Cannot query field 'nope'" in second["errors"][0]["message"]
    assert third == {"data": {"region": {"code": "110000"}}}


async def test_batch_over_the_cap_is_refused_whole(limited: httpx.AsyncClient) -> None:
    response = await post(limited, [{"query": "{ __typename }"}] * 4)
    assert response.status_code == 400
    error = only_error(response)
    assert error["message"] == (
        "The batch holds 4 operations, over the limit of 3 (max batch size): split it."
    )
    assert error["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert response.headers["x-sql-statements"] == "0"


async def test_get_never_batches(limited: httpx.AsyncClient) -> None:
    params = {"query": json.dumps([{"query": "{ __typename }"}])}
    response = await limited.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 400
    assert "Syntax Error" in only_error(response)["message"]


# --- rate limits -------------------------------------------------------------------------------


async def test_rate_limit_is_429_with_retry_after(settings: Settings, database_url: str) -> None:
    async with serving(
        replace(settings, rate_limit_per_minute=6, rate_limit_burst=2), database_url
    ) as client:
        for _ in range(2):
            assert (await post(client, {"query": "{ __typename }"})).status_code == 200
        refused = await post(client, {"query": "{ __typename }"})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"  # one token every 10 s
        error = only_error(refused)
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "Rate limit exceeded" in error["message"]
        assert "Retry after 10 s" in error["message"]
        # someone else has their own bucket
        other = await post(client, {"query": "{ __typename }"}, **admin_headers(settings))
        assert other.status_code == 200


async def test_each_operation_of_a_batch_counts(settings: Settings, database_url: str) -> None:
    async with serving(
        replace(settings, rate_limit_per_minute=60, rate_limit_burst=3), database_url
    ) as client:
        batch = [{"query": "{ __typename }"}] * 2
        assert (await post(client, batch)).status_code == 200
        refused = await post(client, batch)  # needs 2, 1 left
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"


def admin_headers(settings: Settings) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(settings, role='admin', subject='limits')}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_and_says_when() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(60, 3, clock=clock)  # one token a second
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") is None  # buckets are per principal
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") is None
    assert limiter.take("a", 5) == pytest.approx(3.0)  # more than the burst: a full bucket
    assert retry_after_header(0.01) == "1" and retry_after_header(2.2) == "3"


def test_token_bucket_memory_is_bounded() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(60, 2, max_principals=100, clock=clock)
    for i in range(1000):
        limiter.take(f"p{i}")
    assert len(limiter) == 100  # least recently used dropped
    clock.now += 10  # every bucket is full again, i.e. idle
    for _ in range(1000):
        limiter.take("busy")
    assert len(limiter) < 100  # swept


def test_limiter_can_be_turned_off() -> None:
    assert limiter_from_settings(0, 60) is None
    assert isinstance(limiter_from_settings(600, 60), TokenBucketLimiter)


# --- production --------------------------------------------------------------------------------


INTROSPECTION = [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Job") { name } }',
    "query { ...F } fragment F on Query { jobs(first: 1) { __typename } __schema { types "
    "{ name } } }",
]


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_no_introspection_for_anonymous_in_production(
    production: httpx.AsyncClient, query: str
) -> None:
    response = await post(production, {"query": query})
    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert "Introspection" in error["message"] and "anonymous" in error["message"]
    assert response.headers["x-sql-statements"] == "0"


async def test_typename_stays_allowed_in_production(production: httpx.AsyncClient) -> None:
    response = await post(production, {"query": "{ __typename }"})
    assert answer(response) == {"data": {"__typename": "Query"}}


async def test_introspection_outside_production(limited: httpx.AsyncClient) -> None:
    response = await post(limited, {"query": INTROSPECTION[0]})
    assert answer(response) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@dataclass
class FakeContext:
    viewer: Viewer


async def test_authenticated_callers_may_introspect_in_production() -> None:
    checks = default_document_checks(max_query_cost=20_000, production=True)
    staff = FakeContext(Viewer(Role.STAFF, subject="s1", region_code="440000"))
    endpoint = GraphQLEndpoint(real_schema, lambda _r: staff, document_checks=checks)
    async with client_for(endpoint) as client:
        response = await post(client, {"query": INTROSPECTION[0]})
    assert answer(response) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize(
    ("body", "suggestion"),
    [
        ({"query": "{ job { id } }"}, "Did you mean 'jobs'?"),
        (
            {
                "query": "query ($o: JobOrder) { jobs(orderBy: $o) { totalCount } }",
                "variables": {"o": {"field": "POSTED"}},
            },
            "Did you mean the enum value 'POSTED_AT'?",
        ),
    ],
)
async def test_no_suggestions_in_production(
    production: httpx.AsyncClient,
    limited: httpx.AsyncClient,
    body: dict[str, Any],
    suggestion: str,
) -> None:
    development = only_error(await post(limited, body))["message"]
    assert development.endswith(suggestion)
    response = await post(production, body)
    assert response.status_code == 400
    message = only_error(response)["message"]
    assert "Did you mean" not in message
    assert message == development.removesuffix(suggestion).rstrip()


# --- CSRF: only JSON bodies are executed -----------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B+__typename+%7D"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="query"'
            b"\r\n\r\n{ __typename }\r\n--x--\r\n",
        ),
        ("text/plain", b'{"query": "{ __typename }"}'),
    ],
)
async def test_form_posts_are_415(
    limited: httpx.AsyncClient, content_type: str, content: bytes
) -> None:
    response = await limited.post(
        "/graphql", content=content, headers={"content-type": content_type, "accept": GRJ}
    )
    assert response.status_code == 415
    assert "application/json" in only_error(response)["message"]


# --- authentication errors ---------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field
    def items(self, info: strawberry.Info, first: int = 20) -> list[int]:
        info.context["calls"].append(first)
        return list(range(first))


tiny_schema = strawberry.Schema(query=Query)


def client_for(endpoint: GraphQLEndpoint) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/graphql", endpoint)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_authentication_error_is_401_with_a_bearer_challenge() -> None:
    message = 'The token expired at 2024-01-01T00:00:00Z ("exp").'

    async def refuse(_request: Request) -> None:
        raise AuthenticationError(message)

    async with client_for(GraphQLEndpoint(tiny_schema, refuse)) as client:
        response = await post(client, {"query": "{ items }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="The token expired at '
        "2024-01-01T00:00:00Z ('exp').\""
    )
    assert answer(response) == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


def test_bearer_challenge_stays_within_its_charset() -> None:
    challenge = bearer_challenge('bad "token" \\ 令牌\n')
    assert challenge == 'Bearer error="invalid_token", error_description="bad \'token\' ? ???"'


async def test_the_app_answers_bad_tokens_with_401(limited: httpx.AsyncClient) -> None:
    response = await post(limited, {"query": "{ __typename }"}, authorization="Bearer nope")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert only_error(response)["extensions"]["code"] == "UNAUTHENTICATED"


# --- the document-check interface ----------------------------------------------------------------


async def test_document_checks_see_coerced_variables_and_refuse_before_execution() -> None:
    seen: list[dict[str, Any]] = []

    def no_more_than_three(checked: CheckedOperation) -> list[GraphQLError]:
        seen.append(checked.variables)
        if checked.variables.get("n", 0) > 3:
            error = GraphQLError("Too many", checked.operation, extensions={"code": "TOO_MANY"})
            return [error]
        return []

    context: dict[str, list[int]] = {"calls": []}
    factory: Callable[[Request], dict[str, list[int]]] = lambda _request: context  # noqa: E731
    endpoint = GraphQLEndpoint(tiny_schema, factory, document_checks=[no_more_than_three])
    query = "query ($n: Int = 2) { items(first: $n) }"
    async with client_for(endpoint) as client:
        ok = await post(client, {"query": query})
        refused = await post(client, {"query": query, "variables": {"n": 5}})
    assert answer(ok) == {"data": {"items": [0, 1]}}
    assert refused.status_code == 400
    assert only_error(refused)["extensions"] == {"code": "TOO_MANY"}
    assert seen == [{"n": 2}, {"n": 5}]
    assert context["calls"] == [2]  # the refused operation never ran
