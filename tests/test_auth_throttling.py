"""Failed credentials are throttled per client address, and unknown API-key prefixes are
remembered, so guessing costs neither SQL nor signature checks."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from db.session import create_engine
from server.app import create_app
from server.auth import (
    AuthenticationError,
    Authenticator,
    TooManyFailures,
    create_api_key,
    mint_token,
)
from server.settings import Settings
from tests.fake_requests import Clock, request

GRJ = "application/graphql-response+json"
LIMIT = 20
ATTACKER = "198.51.100.7"
BYSTANDER = "203.0.113.9"


@asynccontextmanager
async def clients_from(
    settings: Settings, database_url: str, *addresses: str, sync_seconds: float = 0
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app (a failure limit of LIMIT a minute), one HTTP client per client address; with
    `sync_seconds`, the app shares its buckets with other processes that often."""
    configured = dataclasses.replace(
        settings, auth_failure_limit=LIMIT, auth_failure_window_seconds=60,
        rate_limit_sync_seconds=sync_seconds,
    )
    async with AsyncExitStack() as stack:
        manager = await stack.enter_async_context(
            LifespanManager(create_app(configured, database_url))
        )
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=manager.app, client=(address, 4711)),
                    base_url="http://test",
                )
            )
            for address in addresses
        ]
        yield clients


async def typename(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": GRJ, **headers}
    )


@pytest.fixture(scope="module")
async def partner_key(database_url: str, settings: Settings) -> str:
    engine = create_engine(database_url)
    try:
        return await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner="throttle-test-agency",
            scopes=["jobs"], regions=["440000"], fields=None, purpose="job-matching",
        )
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "bad",
    [
        {"x-api-key": "lh_ABCDEFGH_" + "x" * 43},  # an unknown prefix
        {"authorization": "Bearer not-a-token"},
    ],
    ids=["api key", "token"],
)
async def test_failed_credentials_from_one_address_get_429(
    settings: Settings, database_url: str, partner_key: str, bad: dict[str, str]
) -> None:
    async with clients_from(settings, database_url, ATTACKER, BYSTANDER) as (attacker, other):
        statuses = [(await typename(attacker, **bad)).status_code for _ in range(150)]
        assert statuses[:LIMIT] == [401] * LIMIT
        assert set(statuses[LIMIT:]) == {429}

        refused = await typename(attacker, **bad)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["message"].startswith(
            f"Too many failed credentials from this address ({LIMIT} within 60 s); retry after"
        )
        # a credential that verifies is answered as usual from there (many clients share an
        # address), and other addresses and anonymous requests are not affected
        admin = f"Bearer {mint_token(settings, role='admin', subject='throttle')}"
        assert (await typename(attacker, authorization=admin)).status_code == 200
        assert (await typename(attacker, **{"x-api-key": partner_key})).status_code == 200
        assert (await typename(attacker, **bad)).status_code == 429, "a good one reset nothing"
        assert (await typename(other, authorization=admin)).status_code == 200
        assert (await typename(other, **{"x-api-key": partner_key})).status_code == 200
        assert (await typename(attacker)).status_code == 200


async def test_the_failure_bucket_refills(settings: Settings, database_url: str) -> None:
    clock = Clock()
    engine = create_engine(database_url)
    try:
        configured = dataclasses.replace(
            settings, auth_failure_limit=3, auth_failure_window_seconds=30
        )
        vault = PersonalDataVault(settings.master_key())
        auth = Authenticator(configured, engine, vault, clock=clock)
        bad = request(ATTACKER, authorization="Bearer nope")
        for _ in range(3):
            with pytest.raises(AuthenticationError):
                await auth.authenticate(bad)
        with pytest.raises(TooManyFailures, match="retry after 10 s"):
            await auth.authenticate(bad)  # 3 per 30 s: one more every 10 s
        clock.now += 10
        with pytest.raises(AuthenticationError):
            await auth.authenticate(bad)  # checked again, and refused
    finally:
        await engine.dispose()


async def test_a_repeated_unknown_prefix_costs_no_sql(
    settings: Settings, database_url: str
) -> None:
    engine: AsyncEngine = create_engine(database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_rest: statements.append(statement),
    )
    try:
        auth = Authenticator(
            dataclasses.replace(settings, auth_failure_limit=0),
            engine,
            PersonalDataVault(settings.master_key()),
        )
        unknown = request(ATTACKER, x_api_key="lh_ZZZZZZZZ_" + "x" * 43)
        for expected in (1, 1, 1):
            with pytest.raises(AuthenticationError, match="unknown or revoked API key"):
                await auth.authenticate(unknown)
            assert len(statements) == expected, statements
        with pytest.raises(AuthenticationError):
            await auth.authenticate(request(ATTACKER, x_api_key="lh_YYYYYYYY_" + "x" * 43))
        assert len(statements) == 2, "another prefix is looked up"
    finally:
        await engine.dispose()


async def test_past_the_limit_in_one_process_good_credentials_pass_in_every_process(
    settings: Settings, database_url: str, partner_key: str
) -> None:
    """Two processes sharing their failure counts: an address that failed LIMIT times in one
    is refused its next failure in the other too, while its good token and key get through."""
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # shared buckets outlive the test
    bad_token = {"authorization": "Bearer not-a-token"}
    async with (
        clients_from(settings, database_url, address, sync_seconds=0.05) as (first,),
        clients_from(settings, database_url, address, sync_seconds=0.05) as (second,),
    ):
        statuses = [(await typename(first, **bad_token)).status_code for _ in range(LIMIT)]
        assert statuses == [401] * LIMIT
        deadline = time.monotonic() + 10
        while (refused := await typename(second, **bad_token)).status_code == 401:
            assert time.monotonic() < deadline, "the second process never learnt the failures"
            await asyncio.sleep(0.05)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        admin = f"Bearer {mint_token(settings, role='admin', subject='throttle-shared')}"
        for client in (first, second):
            assert (await typename(client, authorization=admin)).status_code == 200
            assert (await typename(client, **{"x-api-key": partner_key})).status_code == 200
            for bad in (bad_token, {"x-api-key": "lh_QQQQQQQQ_" + "x" * 43}):
                assert (await typename(client, **bad)).status_code == 429


async def test_past_the_limit_unknown_prefixes_cost_no_sql_and_a_good_key_passes(
    settings: Settings, database_url: str, partner_key: str
) -> None:
    """Past the limit, prefixes no live key has are refused against one list of the live ones
    (read at most every 10 s), not looked up one by one; a real key is still accepted."""
    clock = Clock()
    engine = create_engine(database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_rest: statements.append(statement),
    )
    try:
        configured = dataclasses.replace(
            settings, auth_failure_limit=3, auth_failure_window_seconds=30
        )
        auth = Authenticator(
            configured, engine, PersonalDataVault(settings.master_key()), clock=clock
        )
        for _ in range(3):
            with pytest.raises(AuthenticationError):
                await auth.authenticate(request(ATTACKER, authorization="Bearer nope"))
        statements.clear()
        for n in range(50):
            made_up = request(ATTACKER, x_api_key=f"lh_Z{n:07d}_" + "x" * 43)
            with pytest.raises(TooManyFailures):
                await auth.authenticate(made_up)
        assert len(statements) == 1, statements  # the list of live prefixes, once
        viewer = await auth.authenticate(request(ATTACKER, x_api_key=partner_key))
        assert viewer.partner is not None and viewer.partner.partner == "throttle-test-agency"
        with pytest.raises(TooManyFailures):  # the right prefix with a wrong secret
            await auth.authenticate(request(ATTACKER, x_api_key=partner_key[:-4] + "AAAA"))
    finally:
        await engine.dispose()
