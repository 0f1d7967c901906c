"""Live events: what a write tells the other processes, through PostgreSQL `NOTIFY`.

A write calls `notify(tx.connection, event)` inside its transaction, so PostgreSQL delivers
the notification at the commit and never for a write rolled back. The payload carries ids
only (the type, the application, its job, the job's employer and region): whoever receives
it reads the row again under its own row policy, so nothing about a row reaches a subscriber
who may not see it. `server/live_events.py` listens on `CHANNEL` in each process and hands
the events to the subscriptions in it (`EventSource`).
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.access import Role, Viewer
from resolvers.divisions import lies_within

CHANNEL = "laborhub_events"


class EventType(enum.Enum):
    APPLICATION_SUBMITTED = "application_submitted"


@dataclass(frozen=True)
class Event:
    """An application event: ids only."""

    type: EventType
    application_id: int
    job_id: int
    employer_id: int
    region_code: str

    def payload(self) -> str:
        return json.dumps({**asdict(self), "type": self.type.value}, separators=(",", ":"))


def parse_event(payload: str) -> Event | None:
    """The event a notification carries, or None for one this code does not know."""
    try:
        data: Any = json.loads(payload)
        return Event(
            EventType(data["type"]),
            int(data["application_id"]),
            int(data["job_id"]),
            int(data["employer_id"]),
            str(data["region_code"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


async def notify(connection: AsyncConnection, event: Event) -> None:
    """Send `event` at the commit of `connection`'s transaction (nothing if it rolls back)."""
    await connection.execute(select(func.pg_notify(CHANNEL, event.payload())))


class EventSource(Protocol):
    """The events of this process's listener, for one subscriber: `events()` yields each
    event received after it starts, until the subscriber stops iterating."""

    def events(self) -> AsyncIterator[Event]: ...


SUBSCRIBING_ROLES = frozenset({Role.EMPLOYER, Role.STAFF, Role.ADMIN})
"""Who may subscribe to application events: the job's employer, staff, admins."""


def concerns(viewer: Viewer, event: Event, job_id: int | None = None) -> bool:
    """Whether `event` is about a job of the subscriber's (an employer's own, one in a staff
    member's division, any for an admin), narrowed to `job_id` when given. A first sieve
    on the ids alone: the row is still read under the viewer's policy before it is sent."""
    if job_id is not None and event.job_id != job_id:
        return False
    if viewer.role is Role.ADMIN:
        return True
    if viewer.role is Role.EMPLOYER:
        return viewer.employer_id is not None and event.employer_id == viewer.employer_id
    if viewer.role is Role.STAFF:
        return viewer.region_code is not None and lies_within(
            event.region_code, viewer.region_code
        )
    return False


__all__ = [
    "CHANNEL",
    "SUBSCRIBING_ROLES",
    "Event",
    "EventSource",
    "EventType",
    "concerns",
    "notify",
    "parse_event",
]
