"""Live updates: `Subscription.applicationSubmitted` over a real WebSocket (graphql-transport-ws).

Two `laborhub serve` processes share the run's database: subscribers connect to process A,
applications are made over HTTP on process B, and the event crosses between them through
PostgreSQL's LISTEN/NOTIFY. An event reaches only the subscribers who may read the
application; a write rolled back sends nothing. Each test removes the applications it makes
(and the module its jobs).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import ExecutionResult
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from resolvers.events import Event, EventType, notify, parse_event
from server.graphiql import STATIC_DIRECTORY, graphiql_html
from server.live_events import APPLICATION_NAME, QUEUE_SIZE, EventListener
from server.settings import Settings
from server.subscriptions import masked_results
from tests.conftest import GraphQLClient, bearer
from tests.live_clients import (
    MAX_SUBSCRIPTIONS,
    PROTOCOL,
    SETTLE_SECONDS,
    admitted,
    live,
    message,
    on,
    serving_pair,
    silent,
    subscribe_to,
    ws_url,
)
from tests.live_server import ServeProcess
from tests.postings import Employer, as_worker, key_of, post_job, seeded_employers, seeded_workers

SUBMITTED = """subscription ($jobId: ID) { applicationSubmitted(jobId: $jobId) {
  id status job { id } worker { id } } }"""
APPLY = """mutation ($input: ApplyToJobInput!) { applyToJob(input: $input) {
  application { id } userErrors { field code message } } }"""


servers = serving_pair()


@pytest.fixture(scope="module", autouse=True)
async def jobs_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """The jobs the module posts go when it ends (their applications with them)."""
    async with engine.connect() as connection:
        last = (await connection.execute(text("SELECT max(id) FROM jobs"))).scalar_one()
    yield
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM applications WHERE job_id > :l"), {"l": last})
        await connection.execute(text("DELETE FROM jobs WHERE id > :l"), {"l": last})


@pytest.fixture(autouse=True)
async def applications_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.connect() as connection:
        last = (await connection.execute(text("SELECT max(id) FROM applications"))).scalar_one()
    yield
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM applications WHERE id > :l"), {"l": last})


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


async def subscribe(
    socket: ClientConnection, operation_id: str, variables: dict[str, Any] | None = None
) -> None:
    await subscribe_to(socket, operation_id, SUBMITTED, variables)


async def a_worker(gql: GraphQLClient) -> str:
    """A seeded worker (of many: each test's job is new, so none has applied to it)."""
    workers = await seeded_workers(gql, 20)
    return workers[uuid.uuid4().int % len(workers)]


async def apply(client: GraphQLClient, worker_id: str, job_id: str) -> Any:
    variables = {"input": {"workerId": worker_id, "jobId": job_id}}
    return (await client.ok(APPLY, variables))["applyToJob"]


async def test_an_application_on_one_process_reaches_its_employer_on_another(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    employers: list[Employer],
) -> None:
    a, b = servers
    mine, other = employers
    job = await post_job(gql, mine)
    worker = await a_worker(gql)
    employer = {"Authorization": bearer(settings, "employer", employer_id=mine.id)["authorization"]}
    stranger = bearer(settings, "employer", subject="other-employer", employer_id=other.id)
    async with live(a, employer) as socket, live(a, stranger) as other_socket:
        await subscribe(socket, "mine", {"jobId": job["id"]})
        await subscribe(other_socket, "theirs")
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, as_worker(gql, settings, worker)) as client:
            applied = await apply(client, worker, job["id"])
        assert applied["userErrors"] == [], applied
        event = await message(socket)
        assert event["type"] == "next" and event["id"] == "mine", event
        assert event["payload"] == {"data": {"applicationSubmitted": {
            "id": applied["application"]["id"], "status": "SUBMITTED",
            "job": {"id": job["id"]}, "worker": {"id": worker},
        }}}
        assert await silent(other_socket)


async def test_staff_of_the_division_and_admins_hear_of_it_and_a_job_filter_narrows(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    employers: list[Employer],
) -> None:
    a, b = servers
    mine, other = employers
    job = await post_job(gql, mine)
    staff = bearer(settings, "staff", subject="live-staff", region=mine.province)
    far_staff = bearer(settings, "staff", subject="far-staff", region=other.province)
    admin = bearer(settings, "admin", subject="live-admin")
    async with (
        live(a, staff) as near, live(a, far_staff) as far, live(a, admin) as everything,
    ):
        await subscribe(near, "near")
        await subscribe(far, "far")
        await subscribe(everything, "all")
        await subscribe(everything, "other-job", {"jobId": (await post_job(gql, mine))["id"]})
        await asyncio.sleep(SETTLE_SECONDS)
        worker = await a_worker(gql)
        async with on(b, as_worker(gql, settings, worker)) as client:
            applied = await apply(client, worker, job["id"])
        made = applied["application"]["id"]
        for socket, operation in ((near, "near"), (everything, "all")):
            event = await message(socket)
            assert (event["id"], event["payload"]["data"]["applicationSubmitted"]["id"]) == (
                operation, made
            ), event
        assert await silent(far)
        assert await silent(everything)  # not to the subscription of another job


async def test_credentials_are_checked_at_connection_init(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, _ = servers
    for payload in (
        {"Authorization": "Bearer not-a-token"},
        {"x-api-key": "lh_nothing_nothing"},
        {"authorization": "Basic abc"},
    ):
        async with connect(ws_url(a), subprotocols=[PROTOCOL]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await message(socket)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403, payload
            assert closed.value.rcvd.reason.startswith("Forbidden: "), closed.value.rcvd
    async with live(a, {}) as anonymous:  # no credentials: anonymous, who may not subscribe
        await subscribe(anonymous, "1")
        refused = await message(anonymous)
        assert refused["type"] == "next" and refused["payload"]["data"] is None, refused
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused


async def test_a_principal_holds_a_few_connections_at_most(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, _ = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with (
        live(a, admin), live(a, admin),
        connect(ws_url(a), subprotocols=[PROTOCOL]) as socket,
    ):
        await socket.send(json.dumps({"type": "connection_init", "payload": admin}))
        with pytest.raises(ConnectionClosed) as closed:
            await message(socket)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    await admitted(a, admin)  # the closed ones no longer count


async def test_too_many_subscriptions_on_a_connection_is_an_error_not_a_crash(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, _ = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(a, admin) as socket:
        for number in range(MAX_SUBSCRIPTIONS):
            await subscribe(socket, str(number))
        await subscribe(socket, "one-too-many")
        refused = await message(socket)
        assert refused["type"] == "error" and refused["id"] == "one-too-many", refused
        assert "limit" in refused["payload"][0]["message"]
        await socket.send(json.dumps({"type": "ping"}))
        assert (await message(socket))["type"] == "pong"  # the connection lives on
        await socket.send(json.dumps({"id": "0", "type": "complete"}))
        await asyncio.sleep(0.2)
        await subscribe(socket, "in-its-place")  # a completed one frees its place
        assert await silent(socket)


async def test_only_subscriptions_and_within_the_document_limits(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, _ = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    deep = "subscription { applicationSubmitted { " + "job { employer { jobs(first: 100) { " \
        "nodes { applications(first: 100) { nodes { job { employer { jobs(first: 100) { " \
        "nodes { id } } } } } } } } } } } }"
    refusals = (
        ("{ __typename }", None),  # a query: over HTTP
        (deep, "QUERY_TOO_COMPLEX"),  # the cost check of server/limits.py
        ("subscription { nope }", "GRAPHQL_VALIDATION_FAILED"),
    )
    async with live(a, admin) as socket:
        for number, (query, code) in enumerate(refusals):
            await socket.send(json.dumps(
                {"id": str(number), "type": "subscribe", "payload": {"query": query}}
            ))
            refused = await message(socket)
            assert refused["type"] == "error" and refused["id"] == str(number), refused
            [error] = refused["payload"]
            assert (error.get("extensions") or {}).get("code") == code, refused
            assert error["message"], refused


async def test_a_write_rolled_back_sends_nothing(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    employers: list[Employer],
    engine: AsyncEngine,
) -> None:
    a, b = servers
    mine, _ = employers
    job = await post_job(gql, mine)
    worker = await a_worker(gql)
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(a, admin) as socket:
        await subscribe(socket, "all", {"jobId": job["id"]})
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, as_worker(gql, settings, worker)) as client:
            first = await apply(client, worker, job["id"])
            assert (await message(socket))["id"] == "all"
            again = await apply(client, worker, job["id"])  # a user error: rolled back
        assert [e["code"] for e in again["userErrors"]] == ["DUPLICATE"], again
        assert await silent(socket)
        # The same notification as the first, sent in a transaction that rolls back, and then
        # in one that commits: only the second arrives.
        event = Event(
            EventType.APPLICATION_SUBMITTED, key_of(first["application"]["id"]),
            job_id=key_of(job["id"]), employer_id=key_of(mine.id), regions=(mine.region,),
        )
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await notify(connection, event)
            await transaction.rollback()
        assert await silent(socket)
        async with engine.begin() as connection:
            await notify(connection, event)
        assert (await message(socket))["id"] == "all"



LISTENERS = text(
    "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
    "AND datname = current_database()"
)


async def test_a_lost_listener_connection_is_opened_again(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    employers: list[Employer],
    engine: AsyncEngine,
) -> None:
    a, b = servers
    mine, _ = employers
    job = await post_job(gql, mine)
    async with engine.connect() as connection:
        before = set((await connection.execute(LISTENERS, {"name": APPLICATION_NAME})).scalars())
        assert len(before) >= 2, before  # A's and B's
        await connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid"),
            {"pids": sorted(before)},
        )
        await connection.commit()
    for _ in range(100):  # both listen again (after a pause of half a second)
        async with engine.connect() as connection:
            now = set((await connection.execute(LISTENERS, {"name": APPLICATION_NAME})).scalars())
        if len(now - before) >= 2:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the listeners did not come back: {before} -> {now}")
    worker = await a_worker(gql)
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(a, admin) as socket:
        await subscribe(socket, "all", {"jobId": job["id"]})
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, as_worker(gql, settings, worker)) as client:
            applied = await apply(client, worker, job["id"])
        event = await message(socket)
        assert event["payload"]["data"]["applicationSubmitted"]["id"] == (
            applied["application"]["id"]
        ), event


def test_graphiql_subscribes_over_the_same_path_with_its_headers() -> None:
    """GraphiQL's page (served offline) opens graphql-ws, bundled in its script, on the page's
    own URL, and sends the Headers tab as `connection_init`'s payload."""
    assert "subscriptionUrl" in graphiql_html()
    script = (STATIC_DIRECTORY / "graphiql@3.8.3" / "graphiql.min.js").read_text()
    assert "'graphql-transport-ws'" in script
    assert "options.wsConnectionParams), fetcherOpts == null ? void 0 : fetcherOpts.headers" \
        in script


async def test_a_subscriber_that_falls_behind_loses_its_oldest_events() -> None:
    listener = EventListener("postgresql://nobody@127.0.0.1:1/nothing")  # never connects
    events = [
        Event(EventType.APPLICATION_SUBMITTED, number, job_id=1, regions=("440300",))
        for number in range(QUEUE_SIZE + 6)
    ]
    stream = listener.events()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # the subscriber's queue is in place
    listener.publish(events[0])
    assert await first == events[0]
    for event in events[1:]:
        listener.publish(event)
    assert await anext(stream) == events[6]  # 1..5 were dropped
    await stream.aclose()
    assert listener.subscribers == set()


def test_a_notification_this_code_does_not_know_is_ignored() -> None:
    event = Event(
        EventType.APPLICATION_SUBMITTED, 7, job_id=8, employer_id=9, worker_id=10,
        regions=("440300",),
    )
    assert parse_event(event.payload()) == event
    bare = Event(EventType.TRAINING_SEATS_CHANGED, 3)
    assert parse_event(bare.payload()) == bare
    for payload in (
        "", "[]", "null", '{"type": "job_closed", "key": 1}', '{"type": "application_submitted"}',
        '{"type": "training_seats_changed", "key": "1"}',
        '{"type": "training_seats_changed", "key": true}',
        '{"type": "training_seats_changed", "key": 1, "job_id": 2.5}',
        '{"type": "training_seats_changed", "key": 1, "regions": "440300"}',
        '{"type": "training_seats_changed", "key": 1, "regions": [440300]}',
    ):
        assert parse_event(payload) is None, payload


async def test_an_unexpected_error_in_a_subscription_is_masked_as_over_http() -> None:
    expected = GraphQLError("Employers, staff and admins subscribe", extensions={"code": "X"})
    bug = GraphQLError("boom", path=["applicationSubmitted"], original_error=KeyError("secret"))

    async def results() -> AsyncIterator[ExecutionResult]:
        yield ExecutionResult(data=None, errors=[expected, bug])

    [result] = [result async for result in masked_results(results())]
    assert result.errors is not None
    kept, masked = result.errors
    assert kept is expected
    assert "secret" not in masked.message and masked.path == ["applicationSubmitted"]
    assert masked.extensions is not None
    assert masked.extensions["code"] == "INTERNAL_SERVER_ERROR" and masked.extensions["errorId"]
