"""The HTTP protocol `laborhub serve` runs: a response's head and body leave in one write
(server.http_protocol), a streamed response still leaves as it is produced, and a closing
connection sends everything first.

The protocol runs over a transport that records what it is asked to write, which is what is
under test: the number of writes is the number of `send` system calls a real socket makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from server.app import create_app
from server.http_protocol import HttpProtocol
from server.settings import Settings

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class RecordingTransport(asyncio.Transport):
    """A connection's transport that keeps each write it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    @property
    def sent(self) -> bytes:
        return b"".join(self.writes)


@pytest.fixture(scope="module")
async def app(settings: Settings, database_url: str) -> AsyncIterator[ASGIApp]:
    async with LifespanManager(create_app(settings, database_url)) as manager:
        yield manager.app


async def exchange(
    app: ASGIApp, request: bytes, protocol_class: type[HttpToolsProtocol] = HttpProtocol
) -> RecordingTransport:
    """One request on a new connection, answered by `app`; the connection's transport."""
    config = Config(app=app, log_level="warning", proxy_headers=False)
    config.load()
    loop = asyncio.get_running_loop()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(1000):  # until the app has sent the whole response (10 s at most)
        if protocol.cycle is not None and protocol.cycle.response_complete:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)  # the end of the turn the response was sent in
    return transport


def post(body: bytes, *headers: bytes) -> bytes:
    head = [
        b"POST /graphql HTTP/1.1", b"host: test", b"content-type: application/json",
        b"content-length: %d" % len(body), *headers,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


QUERY = b'{"query": "{ __typename }"}'


async def test_a_response_leaves_in_one_write(app: ASGIApp) -> None:
    transport = await exchange(app, post(QUERY))
    assert len(transport.writes) == 1, transport.writes
    [response] = transport.writes
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith(b'}}') and b'{"data":{"__typename":"Query"}' in response
    assert not transport.closed


async def test_uvicorns_own_protocol_writes_twice(app: ASGIApp) -> None:
    """What the protocol saves: without it, the head and the body are two writes."""
    transport = await exchange(app, post(QUERY), HttpToolsProtocol)
    assert len(transport.writes) == 2


async def test_a_closing_connection_sends_the_response_before_it_closes(app: ASGIApp) -> None:
    transport = await exchange(app, post(QUERY, b"connection: close"))
    assert transport.closed
    assert transport.sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.sent.endswith(b'}}') and b'{"data":{"__typename":"Query"}' in transport.sent


async def test_a_streamed_response_leaves_as_it_is_produced() -> None:
    """Parts sent in different turns of the event loop are not held back for the end."""
    parts = [b"first", b"second", b"third"]
    seen: list[int] = []
    transport_of: list[RecordingTransport] = []

    async def streaming(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            seen.append(len(transport_of[0].writes) if transport_of else -1)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    config = Config(app=streaming, log_level="warning", proxy_headers=False)
    config.load()
    protocol = HttpProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    transport_of.append(transport)
    protocol.connection_made(transport)
    protocol.data_received(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
    for _ in range(50):
        await asyncio.sleep(0)
    assert seen == [1, 2, 3], "each part left in the turn it was sent"
    body = transport.sent.split(b"\r\n\r\n", 1)[1]
    assert body == b"5\r\nfirst\r\n6\r\nsecond\r\n5\r\nthird\r\n0\r\n\r\n"
