"""A minimal HTTP/1.1 client for the load loop: keep-alive POSTs over plain asyncio streams.

httpx costs the bench process 1.5-2 ms of CPU per request, which capped every server at a few
hundred requests a second on a 2-core machine: the client, not the server, was measured. This
one sends a request prepared once as bytes and reads the answer by `Content-Length` or chunked
encoding, nothing else (no redirects, TLS, compression or cookies), over a pool of at most
`size` connections, one per concurrent client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024


class ProtocolError(RuntimeError):
    """The server's answer was not the HTTP/1.1 this client reads."""


class _Stale(ConnectionError):
    """The connection was closed before the answer began."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    """Lower-case names; a repeated header keeps its last value."""
    content: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    def close(self) -> None:
        self.writer.close()


class Http1Pool:
    """Keep-alive connections to one `http://host:port`, at most `size` at a time."""

    def __init__(self, base_url: str, size: int, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"base_url: expected http://host:port, got {base_url!r}")
        if size < 1:
            raise ValueError(f"size: expected at least 1, got {size}")
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    def request_bytes(
        self, path: str, body: bytes, headers: Mapping[str, str | None]
    ) -> bytes:
        """A POST of `body` to `path`, ready to send again and again; a header given as None
        leaves out the pool's own (its credentials, for an anonymous request)."""
        lines = [f"POST {path} HTTP/1.1"]
        all_headers = {**self.headers, **headers, "Content-Length": str(len(body))}
        lines += [f"{name}: {value}" for name, value in all_headers.items() if value is not None]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: bytes) -> Response:
        """The answer to `request`; a kept-alive connection the server has closed meanwhile
        (servers drop idle ones after a few seconds) is replaced once, transparently."""
        async with self._slots:
            if self._idle:
                try:
                    return await self._exchange(self._idle.pop(), request)
                except _Stale:
                    pass
            reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(_Connection(reader, writer), request)
            except _Stale as exc:
                raise ProtocolError("the server closed the connection before answering") from exc

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _exchange(self, connection: _Connection, request: bytes) -> Response:
        try:
            connection.writer.write(request)
            response = await _read_response(connection)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._idle.append(connection)
        else:
            connection.close()
        return response


async def _read_response(connection: _Connection) -> Response:
    reader = connection.reader
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("the server closed the connection mid-answer") from exc
        raise _Stale() from exc
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise _Stale() from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("response head too long") from exc
    if len(head) > MAX_HEAD_BYTES:
        raise ProtocolError("response head too long")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:100]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
        connection.reusable = False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        content = await _read_chunked(reader)
    elif "content-length" in headers:
        content = await reader.readexactly(int(headers["content-length"]))
    else:
        connection.reusable = False
        content = await reader.read()
    return Response(int(rest[:3]), headers, content)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
