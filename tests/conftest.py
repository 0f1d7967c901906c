"""Fixtures: a migrated, seeded PostgreSQL database and the real app over HTTP."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import upgrade_to_head
from db.pii import PersonalDataVault
from db.reference_data import sync_reference_data
from db.seed import seed
from db.session import create_engine
from server.app import create_app
from server.auth import mint_token
from server.settings import Settings
from tests.database import admin_database_url, fresh_database
from tests.embedded_homes import private_folder

TEST_KEY = bytes(range(32))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed", type=int, default=None,
        help="seed of the generated operations of tests/test_compiled_reads.py",
    )


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Name the random order even under `-q` (which hides the header), so a failure that
    depends on order can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.has_plugin("randomly") and seed is not None:
        terminalreporter.write_line(
            f"tests ran in random order, seed {seed}: replay with --randomly-seed={seed}"
        )


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        secret_key=base64.b64encode(TEST_KEY).decode(),
        expose_sql_stats=True,
        # The suite sends hundreds of requests per principal in seconds; limits have own tests.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        # Every app of the suite shares one database; buckets shared through it would carry
        # one test's spending into the next. test_shared_limits turns sharing on.
        rate_limit_sync_seconds=0,
        auth_failure_limit=0,  # the suite sends many bad credentials on purpose
    )


@pytest.fixture
def embedded_home() -> Iterator[Path]:
    """A private (0700) folder for embedded PostgreSQL homes, as a root user's home is: its
    servers must start there, and afterwards no folder laborhub did not make has changed mode
    (`tests.embedded_homes`). Short, for the servers' sockets."""
    with private_folder("lh-home-") as folder:
        yield folder


async def migrate(url: str) -> None:
    """Run the migrations and load the reference data."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await upgrade_to_head(engine)
        async with engine.begin() as connection:
            await sync_reference_data(connection)
    finally:
        await engine.dispose()


async def migrate_and_seed(url: str, vault: PersonalDataVault) -> None:
    """Migrate, then seed the `tiny` data set."""
    await migrate(url)
    await seed(url, "tiny", vault, progress=False)


@contextmanager
def seeded_database(admin_url: str, settings: Settings) -> Iterator[str]:
    """A new database on that server: migrated, reference data loaded, `tiny` data seeded;
    dropped afterwards."""
    with fresh_database(admin_url) as url:
        asyncio.run(migrate_and_seed(url, PersonalDataVault(settings.master_key())))
        yield url


@pytest.fixture(scope="session")
def database_url(settings: Settings) -> Iterator[str]:
    """The run's database."""
    with admin_database_url() as admin, seeded_database(admin, settings) as url:
        yield url


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def statements(self) -> int:
        return int(self.headers["x-sql-statements"])


class GraphQLClient:
    """Posts GraphQL over HTTP to the app, as a front-end would, with fixed credentials."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.headers = headers or {}

    def as_(self, headers: dict[str, str]) -> GraphQLClient:
        """The same client with other credentials."""
        return GraphQLClient(self.http, headers)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> GraphQLResponse:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"accept": "application/graphql-response+json", **self.headers},
        )
        return GraphQLResponse(response.status_code, response.json(), response.headers)

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The `data` of a query that must succeed without errors."""
        result = await self(query, variables)
        assert result.status == 200 and not result.errors, result.body
        return result.data


@asynccontextmanager
async def serving(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with `settings` over HTTP, lifespan included (a test that needs other
    settings passes `dataclasses.replace(settings, ...)`)."""
    app = create_app(settings, database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(scope="session")
async def http(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings, database_url) as client:
        yield client


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A small engine on the run's database, for a module that reads or writes rows directly."""
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    yield engine
    await engine.dispose()


@asynccontextmanager
async def rows_removed_after(engine: AsyncEngine, *tables: str) -> AsyncIterator[None]:
    """The rows made in `tables` during the block (ids past each one's largest before it)
    are deleted after it, table by table in the order given (those that point to others
    first), so no other test meets them. Audit events stay: they are append-only."""
    async with engine.connect() as connection:
        last = {
            table: (await connection.execute(text(f"SELECT max(id) FROM {table}"))).scalar_one()
            for table in tables
        }
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for table in tables:
                await connection.execute(
                    text(f"DELETE FROM {table} WHERE id > :last"), {"last": last[table] or 0}
                )


@pytest.fixture
async def registered_workers_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """For a test that registers workers: they are deleted after it, with their skills,
    intentions, surveys and consents (ON DELETE CASCADE), so no other test meets them (lists
    of workers come newest first, before the seeded ones)."""
    async with rows_removed_after(engine, "workers"):
        yield


class Claims(TypedDict, total=False):
    """What a development token may claim besides its role."""

    region: str
    worker_id: str
    employer_id: str


def answer(response: httpx.Response | dict[str, Any]) -> dict[str, Any]:
    """A response's body without the `readPaths` extension the app adds outside production
    (which path answered each root field), for comparing answers whole."""
    body = dict(response.json() if isinstance(response, httpx.Response) else response)
    extensions = {k: v for k, v in (body.get("extensions") or {}).items() if k != "readPaths"}
    body.pop("extensions", None)
    if extensions:
        body["extensions"] = extensions
    return body


def bearer(
    settings: Settings, role: str, subject: str | None = None, **claims: Unpack[Claims]
) -> dict[str, str]:
    """Headers with a development token for `role` (of subject `test-<role>` unless given:
    one person, as the records they make name them)."""
    token = mint_token(settings, role=role, subject=subject or f"test-{role}", **claims)
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def gql(http: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    """An admin's client: the data tests see every row."""
    return GraphQLClient(http, bearer(settings, "admin"))


@pytest.fixture(scope="session")
async def http_resolvers(
    settings: Settings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with compiled reads off: every operation runs on the resolver path."""
    async with serving(dataclasses.replace(settings, compiled_reads=False), database_url) as app:
        yield app


@pytest.fixture(scope="session")
def gql_resolvers(http_resolvers: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    """An admin's client of the resolver path."""
    return GraphQLClient(http_resolvers, bearer(settings, "admin"))


@pytest.fixture(params=["compiled", "resolvers"])
def read_path(request: pytest.FixtureRequest) -> str:
    """Each read path in turn, for tests that must hold on both."""
    return str(request.param)


@pytest.fixture
def gql_on_path(
    read_path: str, gql: GraphQLClient, gql_resolvers: GraphQLClient
) -> GraphQLClient:
    """The admin's client of the read path `read_path` names."""
    return gql if read_path == "compiled" else gql_resolvers


@pytest.fixture(scope="session")
def anonymous(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
