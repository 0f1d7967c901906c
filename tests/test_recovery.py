"""When the database stumbles. The app's own embedded PostgreSQL is stopped under it and
started again. While it is down, `/readyz` says 503, every request fails fast with
`SERVICE_UNAVAILABLE` (never a hang, never a masked 500), `/healthz` still answers; once it is
back, service resumes by itself, on both read paths. And a mutation's connection is ended in
the middle of its transaction: nothing of it is written."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from db.embedded import EmbeddedPostgres
from db.session import sync_url
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, migrate, serving
from tests.embedded_homes import private_folder
from tests.test_create_job import CREATE, job_input

JOBS = "query RecoveryJobs { jobs(first: 2) { totalCount nodes { id title } } }"
FAST_SECONDS = 5.0
"""A request to a stopped database answers within this (the statement timeout is 10 s)."""


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedPostgres]:
    """An embedded PostgreSQL of this module's own, migrated, to stop and start at will."""
    with private_folder("lh-r-") as home:
        server = EmbeddedPostgres(home).start()
        try:
            asyncio.run(migrate(server.url))
            yield server
        finally:
            server.stop()


async def graphql(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": JOBS},
        headers={"accept": "application/graphql-response+json", **headers},
    )


def codes(response: httpx.Response) -> set[str | None]:
    return {
        (error.get("extensions") or {}).get("code")
        for error in response.json().get("errors") or ()
    }


@pytest.mark.parametrize("read_path", ["compiled", "resolvers"])
async def test_service_fails_fast_while_the_database_is_down_and_resumes_by_itself(
    embedded: EmbeddedPostgres, settings: Settings, read_path: str
) -> None:
    app_settings = dataclasses.replace(settings, compiled_reads=read_path == "compiled")
    admin = bearer(settings, "admin")
    async with serving(app_settings, embedded.url) as http:
        for _ in range(3):  # some pooled connections, on both pools
            response = await graphql(http, admin)
            assert response.status_code == 200 and "errors" not in response.json()
        assert (await http.get("/readyz")).status_code == 200

        embedded.stop()
        try:
            started = time.monotonic()
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            for _ in range(3):
                response = await graphql(http, admin)
                assert codes(response) == {"SERVICE_UNAVAILABLE"}, response.json()
                assert response.status_code in (200, 503)
                if response.status_code == 503:
                    assert response.headers["retry-after"].isdigit()
                assert "Internal server error" not in response.text
            assert time.monotonic() - started < 4 * FAST_SECONDS
            assert (await http.get("/healthz")).status_code == 200
        finally:
            embedded.start()

        failures = 0
        deadline = time.monotonic() + 15
        while True:  # the first request after the restart may still meet a lost connection
            response = await graphql(http, admin)
            if response.status_code == 200 and "errors" not in response.json():
                break
            assert codes(response) == {"SERVICE_UNAVAILABLE"}, response.json()
            failures += 1
            assert time.monotonic() < deadline, "service did not resume"
            await asyncio.sleep(0.2)
        assert failures <= 1
        for _ in range(3):
            response = await graphql(http, admin)
            assert response.status_code == 200 and "errors" not in response.json()
        assert (await http.get("/readyz")).status_code == 200


async def waiting_pid_on_jobs(connection: asyncpg.Connection) -> int | None:
    """The session waiting for a lock on `jobs`, from pg_locks (pg_stat_activity would show
    the view as it was when the caller's transaction began)."""
    pid = await connection.fetchval(
        "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'jobs'::regclass LIMIT 1"
    )
    return int(pid) if pid is not None else None


async def test_a_connection_lost_in_the_middle_of_a_mutation_writes_nothing(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    """createJob's session is ended by the server while its insert waits on a lock: the
    client hears SERVICE_UNAVAILABLE, no row of it is left (neither the job nor its
    idempotency key), and sending it again with the same key creates the job once."""
    client = GraphQLClient(http, bearer(settings, "admin"))
    node = (await client.ok("{ employers(first: 1) { nodes { id region { code } } } }"))[
        "employers"
    ]["nodes"][0]
    employer = {"id": node["id"], "region": node["region"]["code"]}
    as_employer = client.as_(bearer(settings, "employer", employer_id=employer["id"]))
    key = f"lost-{uuid.uuid4().hex}"
    title = f"断线重试 {key[-8:]}"
    new_job = {"input": job_input(employer, title=title, idempotencyKey=key)}

    locker = await asyncpg.connect(sync_url(database_url))
    try:
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")  # no inserts
        in_flight = asyncio.create_task(as_employer(CREATE, new_job))
        for _ in range(200):
            pid = await waiting_pid_on_jobs(locker)
            if pid is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the mutation never reached the lock")
        assert await locker.fetchval("SELECT pg_terminate_backend($1)", pid)
        await transaction.rollback()
        lost = await in_flight
        assert {e["extensions"]["code"] for e in lost.errors} == {"SERVICE_UNAVAILABLE"}
        assert not (lost.data or {}).get("createJob")
        assert await locker.fetchval("SELECT count(*) FROM jobs WHERE title = $1", title) == 0
        assert await locker.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE key = $1", key
        ) == 0
    finally:
        await locker.close()

    again = await as_employer.ok(CREATE, new_job)
    twice = await as_employer.ok(CREATE, new_job)
    assert again["createJob"]["userErrors"] == []
    assert twice["createJob"]["job"]["id"] == again["createJob"]["job"]["id"]
    check = await asyncpg.connect(sync_url(database_url))
    try:
        assert await check.fetchval("SELECT count(*) FROM jobs WHERE title = $1", title) == 1
    finally:
        await check.close()
