"""An OTLP/HTTP trace receiver that keeps nothing: what `python -m bench --tracing` exports to,
so that the measured cost is laborhub's (making, batching and sending spans), not a
collector's. It counts the export requests and the spans in them, and writes the counts as JSON
to the file it was given when it is stopped (SIGTERM or SIGINT).

    python -m bench.otlp_sink PORT COUNTS_FILE
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
)
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.spans = 0
        self.bytes = 0


async def serve_one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: Counts
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length)
            try:
                request = ExportTraceServiceRequest.FromString(body)
            except Exception:
                writer.write(BAD)
                return
            counts.requests += 1
            counts.bytes += length
            counts.spans += sum(
                len(scope.spans) for resource in request.resource_spans
                for scope in resource.scope_spans
            )
            writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> Counts:
    counts = Counts()
    server = await asyncio.start_server(
        lambda r, w: serve_one(r, w, counts), "127.0.0.1", port
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    return counts


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        received = asyncio.run(main(int(sys.argv[1])))
        Path(sys.argv[2]).write_text(json.dumps(vars(received)))
