"""What the tests of live updates share: two `laborhub serve` processes on the run's database
(a module's pair), graphql-transport-ws connections to them, and HTTP clients of the same
viewers to send the writes to the other process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from server.settings import Settings
from tests.conftest import GraphQLClient
from tests.live_server import ServeProcess, serve_env

PROTOCOL = Subprotocol("graphql-transport-ws")
MAX_SUBSCRIPTIONS = 3  # each process's limit per connection
MAX_CONNECTIONS = 2  # the limit per principal, across the processes
EVENT_SECONDS = 10.0  # an event arrives within this
SILENCE_SECONDS = 2.0  # no event within this: none is coming
SETTLE_SECONDS = 1.0  # for a subscription sent to start listening on the server

Pair = tuple[ServeProcess, ServeProcess]


def serve(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, database_url: str, name: str,
    **env: str,
) -> ServeProcess:
    """A `laborhub serve` on the run's database, healthy (killed by the caller)."""
    assert settings.secret_key is not None
    workdir = tmp_path_factory.mktemp(f"live-{name}")
    process = ServeProcess(["--no-seed"], serve_env(
        workdir / "home",
        DATABASE_URL=database_url,
        LABORHUB_SECRET_KEY=settings.secret_key,
        LABORHUB_AUTH_FAILURE_LIMIT="0",
        LABORHUB_RATE_LIMIT_SYNC_SECONDS="0",
        LABORHUB_MAX_SUBSCRIPTIONS_PER_CONNECTION=str(MAX_SUBSCRIPTIONS),
        LABORHUB_MAX_CONNECTIONS_PER_PRINCIPAL=str(MAX_CONNECTIONS),
        **env,
    ), workdir)
    try:
        process.wait_until_healthy()
    except BaseException:
        process.kill_group()
        raise
    return process


def serving_pair() -> Callable[..., Iterator[Pair]]:
    """A module fixture: processes A and B (started one after the other)."""

    @pytest.fixture(scope="module")
    def servers(
        tmp_path_factory: pytest.TempPathFactory, settings: Settings, database_url: str
    ) -> Iterator[Pair]:
        started: list[ServeProcess] = []
        try:
            for name in ("a", "b"):
                started.append(serve(tmp_path_factory, settings, database_url, name))
            yield started[0], started[1]
        finally:
            for process in started:
                process.kill_group()

    return servers


def ws_url(server: ServeProcess) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


@asynccontextmanager
async def live(server: ServeProcess, payload: dict[str, Any]) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection to `server`, acknowledged for `payload`."""
    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = await message(socket)
        assert ack["type"] == "connection_ack", ack
        yield socket


async def message(socket: ClientConnection, seconds: float = EVENT_SECONDS) -> Any:
    """The next message that is not a ping."""
    while True:
        received = json.loads(await asyncio.wait_for(socket.recv(), seconds))
        if received["type"] != "ping":
            return received


async def subscribe_to(
    socket: ClientConnection, operation_id: str, query: str,
    variables: dict[str, Any] | None = None, **payload: Any,
) -> None:
    await socket.send(json.dumps({
        "id": operation_id, "type": "subscribe",
        "payload": {"query": query, "variables": variables or {}, **payload},
    }))


async def silent(socket: ClientConnection) -> bool:
    """Whether nothing (but pings) arrives within SILENCE_SECONDS."""
    try:
        received = await message(socket, SILENCE_SECONDS)
    except TimeoutError:
        return True
    raise AssertionError(f"expected nothing, got {received}")


async def next_data(socket: ClientConnection, operation_id: str) -> Any:
    """The data of the next message, which must be a `next` for `operation_id`."""
    received = await message(socket)
    assert received["type"] == "next" and received["id"] == operation_id, received
    assert "errors" not in received["payload"], received
    return received["payload"]["data"]


@asynccontextmanager
async def on(server: ServeProcess, gql: GraphQLClient) -> AsyncIterator[GraphQLClient]:
    """`gql`'s viewer, over HTTP to `server`."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield GraphQLClient(client, gql.headers)


async def admitted(server: ServeProcess, payload: dict[str, Any], *more: ServeProcess) -> None:
    """Connections to `server` and each of `more` at once are admitted within a few seconds
    (a closed socket frees its place once its server has seen it close)."""
    for _ in range(50):
        try:
            async with AsyncExitStack() as stack:
                for each in (server, *more):
                    await stack.enter_async_context(live(each, payload))
                return
        except ConnectionClosed:  # refused: a place not yet free
            await asyncio.sleep(0.2)
    raise AssertionError("the connections closed still count")
