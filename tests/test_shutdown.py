"""Graceful shutdown of `laborhub serve`: on SIGTERM it stops accepting connections, lets the
request in flight finish (a mutation held up on a lock the test holds), answers it, closes its
database connections and exits as SIGTERM ends a process."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from db.session import sync_url
from server.settings import Settings
from tests.conftest import bearer
from tests.live_server import ServeProcess, serve_env
from tests.test_create_job import CREATE, job_input

EMPLOYER = "{ employers(first: 1) { nodes { id region { code } } } }"


def post(url: str, query: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"accept": "application/graphql-response+json", **headers},
        timeout=60,
    )
    return response.status_code, response.json()


async def client_backends(url: str, database: str) -> set[int]:
    connection = await asyncpg.connect(sync_url(url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",
            database,
        )
        return {row["pid"] for row in rows}
    finally:
        await connection.close()


async def waiting_on_jobs(connection: asyncpg.Connection) -> bool:
    """Whether a session waits for a lock on `jobs` (from pg_locks: pg_stat_activity would
    show the view as it was when the caller's transaction began)."""
    return bool(
        await connection.fetchval(
            "SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = 'jobs'::regclass"
        )
    )


@pytest.fixture
def serve(tmp_path: Path, settings: Settings, database_url: str) -> Any:
    assert settings.secret_key is not None
    env = serve_env(
        tmp_path / "h",
        DATABASE_URL=database_url,
        LABORHUB_SECRET_KEY=settings.secret_key,
        LABORHUB_SHUTDOWN_GRACE_SECONDS="30",
    )
    process = ServeProcess(["--no-seed"], env, tmp_path)
    try:
        process.wait_until_healthy()
        yield process
    finally:
        process.kill_group()


def test_sigterm_finishes_the_request_in_flight_then_closes_the_pool(
    serve: ServeProcess, settings: Settings, database_url: str
) -> None:
    database = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = bearer(settings, "admin")
    status, body = post(serve.url, EMPLOYER, {}, admin)
    assert status == 200, body
    node = body["data"]["employers"]["nodes"][0]
    employer = {"id": node["id"], "region": node["region"]["code"]}
    as_employer = bearer(settings, "employer", employer_id=employer["id"])
    title = f"停机前发布 {time.time_ns()}"

    async def scenario() -> tuple[Any, set[int]]:
        locker = await asyncpg.connect(sync_url(database_url))
        try:
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")  # no inserts
            new_job = job_input(employer, title=title)
            async with httpx.AsyncClient(base_url=serve.url, timeout=60) as client:
                in_flight = asyncio.create_task(
                    client.post(
                        "/graphql",
                        json={"query": CREATE, "variables": {"input": new_job}},
                        headers={"accept": "application/graphql-response+json", **as_employer},
                    )
                )
                for _ in range(200):
                    if await waiting_on_jobs(locker):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the mutation never reached the lock")
                serve.send(signal.SIGTERM)
                await asyncio.sleep(1.0)
                assert serve.process.poll() is None, "it exited with a request in flight"
                with pytest.raises(httpx.ConnectError):  # no longer accepting
                    async with httpx.AsyncClient(base_url=serve.url) as other:
                        await other.get("/healthz", timeout=2)
                await transaction.rollback()  # the lock goes: the mutation goes on
                response = await in_flight
                answered = (response.status_code, response.json())
        finally:
            await locker.close()
        return answered, await client_backends(database_url, database)

    before = asyncio.run(client_backends(database_url, database))
    (status, body), _ = asyncio.run(scenario())
    assert status == 200, body
    payload = body["data"]["createJob"]
    assert payload["userErrors"] == [] and payload["job"]["title"] == title
    assert serve.wait(timeout=30) == -signal.SIGTERM, serve.output()
    after = asyncio.run(client_backends(database_url, database))
    assert after <= before, "the app's connections outlived it"
    assert "Traceback" not in serve.output()
