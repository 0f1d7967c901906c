"""The process's listener of live events: one dedicated asyncpg connection that `LISTEN`s on
`resolvers.events.CHANNEL` and hands each notification to the subscriptions of this process.

Every write that sends an event sends it inside its transaction (`resolvers.events.notify`),
so each process's listener receives the events of every process once they commit. Each
subscriber has a queue of its own (bounded: one that does not keep up loses the oldest
events, logged, rather than growing without end). A lost connection is opened again (with a
growing pause, at most `MAX_RETRY_SECONDS`); events sent while it was down are not replayed.
The listener is started and stopped with the app's lifespan. LISTEN needs a session of its
own: through PgBouncer in transaction mode, DATABASE_URL's pooler can't carry it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg

from db.session import sync_url
from resolvers.events import CHANNEL, Event, parse_event

QUEUE_SIZE = 256
MAX_RETRY_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
APPLICATION_NAME = "laborhub-live-events"  # in pg_stat_activity

log = logging.getLogger("laborhub.live")


class EventListener:
    """`events()` for each subscriber of this process (see `resolvers.events.EventSource`)."""

    def __init__(self, database_url: str) -> None:
        self.dsn = sync_url(database_url)
        self.subscribers: set[asyncio.Queue[Event]] = set()
        self.listening = asyncio.Event()  # set while the connection listens
        self._task: asyncio.Task[None] | None = None

    async def events(self) -> AsyncGenerator[Event, None]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.subscribers.discard(queue)

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber of this process."""
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
                log.warning("A live subscriber fell behind; its oldest event was dropped")
            queue.put_nowait(event)

    def _received(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        event = parse_event(str(payload))
        if event is None:
            log.warning("An unknown live event was ignored: %.200s", payload)
            return
        self.publish(event)

    async def _listen_once(self) -> None:
        """Listen on one connection until it is lost."""
        lost = asyncio.Event()
        connection = await asyncpg.connect(
            self.dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._received)
            self.listening.set()
            log.info("Listening for live events on %s", CHANNEL)
            await lost.wait()
        finally:
            self.listening.clear()
            with suppress(Exception):
                await asyncio.shield(connection.close(timeout=2))

    async def run(self) -> None:
        """Listen, and listen again whenever the connection is lost, until cancelled."""
        pause = 0.5
        while True:
            try:
                await self._listen_once()
                pause = 0.5
                log.warning("The live events connection was lost; connecting again")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "Can't listen for live events (%s); retrying in %g s",
                    type(exc).__name__, pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)


@asynccontextmanager
async def listening(database_url: str) -> AsyncIterator[EventListener]:
    """An `EventListener` that listens for as long as the block runs."""
    listener = EventListener(database_url)
    task = asyncio.create_task(listener.run(), name="laborhub-live-events")
    try:
        yield listener
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


__all__ = ["EventListener", "listening"]
