"""Live events: what a write tells the other processes, through PostgreSQL `NOTIFY`; and the
feeds the subscriptions draw from them.

A write calls `notify(tx.connection, event)` inside its transaction, as its last step, so
PostgreSQL delivers the notification at the commit and never for a write rolled back. An
`Event` carries ids only: its type, the key of the row it is about, and what the feeds sieve
on (the job, its employer, the worker, the divisions the row lies in). Whoever receives it
reads the row again under its own row policy, so nothing about a row reaches a subscriber who
may not see it. `parse_event` reads a payload defensively: an unknown type, a missing or
mistyped id is not an event. `server/live_events.py` listens on `CHANNEL` in each process and
hands the events to the subscriptions in it (`EventSource`).

A `Feed` is what one subscription listens to: its event types, who may subscribe, and its
sieve (`Feed.concerns`), a first pass on the ids alone, declared here beside the events.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.codes import is_division_code_format
from resolvers.access import Role, Viewer
from resolvers.divisions import lies_within
from resolvers.errors import BadArgument

CHANNEL = "laborhub_events"


class EventType(enum.Enum):
    APPLICATION_SUBMITTED = "application_submitted"  # key: the application
    APPLICATION_STATUS_CHANGED = "application_status_changed"  # key: the application
    WORKER_REGISTERED = "worker_registered"  # key: the worker
    SKILL_SURVEY_RECORDED = "skill_survey_recorded"  # key: the survey
    TRAINING_SEATS_CHANGED = "training_seats_changed"  # key: the training


@dataclass(frozen=True)
class Event:
    """What changed, as ids only: the type, the row's key, and the ids its feeds sieve on
    (`regions`: the divisions the row lies in, e.g. a job's, or a worker's current and hukou
    regions)."""

    type: EventType
    key: int
    job_id: int | None = None
    employer_id: int | None = None
    worker_id: int | None = None
    regions: tuple[str, ...] = ()

    def payload(self) -> str:
        data: dict[str, Any] = {"type": self.type.value, "key": self.key}
        for name in ID_FIELDS:
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.regions:
            data["regions"] = list(self.regions)
        return json.dumps(data, separators=(",", ":"))


ID_FIELDS = ("job_id", "employer_id", "worker_id")


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an id")
    return value


def _optional_id(value: Any) -> int | None:
    return None if value is None else _id(value)


def parse_event(payload: str) -> Event | None:
    """The event a notification carries, or None for one this code does not know (an unknown
    type, a missing key, an id that is not an integer, regions that are not strings)."""
    try:
        data: Any = json.loads(payload)
        if not isinstance(data, dict):
            return None
        regions = data.get("regions", [])
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            return None
        return Event(
            EventType(data["type"]),
            _id(data["key"]),
            **{name: _optional_id(data.get(name)) for name in ID_FIELDS},
            regions=tuple(regions),
        )
    except (ValueError, KeyError, TypeError):
        return None


async def notify(connection: AsyncConnection, event: Event) -> None:
    """Send `event` at the commit of `connection`'s transaction (nothing if it rolls back)."""
    await connection.execute(select(func.pg_notify(CHANNEL, event.payload())))


def regions_of(*codes: str | None) -> tuple[str, ...]:
    """The division codes given, without the missing ones."""
    return tuple(code for code in codes if code is not None)


class EventSource(Protocol):
    """The events of this process's listener, for one subscriber: `events()` yields each
    event received after it starts, until the subscriber stops iterating."""

    def events(self) -> AsyncIterator[Event]: ...


# --- feeds: what each subscription listens to -------------------------------------------------


Sieve = Callable[[Viewer, Event], bool]


@dataclass(frozen=True)
class Feed:
    """The events of one subscription: their types, the roles that may subscribe (all when
    None) and what the others are told, and the sieve of the events that concern a viewer."""

    types: frozenset[EventType]
    roles: frozenset[Role] | None
    refusal: str
    sieve: Sieve

    def admits(self, viewer: Viewer) -> bool:
        return self.roles is None or viewer.role in self.roles

    def concerns(self, viewer: Viewer, event: Event) -> bool:
        """Whether `event` is of this feed and about a row of the viewer's: a first sieve on
        the ids alone; the row is still read under the viewer's policy before it is sent."""
        return event.type in self.types and self.sieve(viewer, event)


def in_division(viewer: Viewer, regions: Iterable[str]) -> bool:
    """A staff member's division holds one of `regions`."""
    division = viewer.region_code
    return division is not None and any(lies_within(code, division) for code in regions)


def _jobs_side(viewer: Viewer, event: Event) -> bool:
    """An application to a job of the viewer's: an employer's own, one in a staff member's
    division, any for an admin."""
    if viewer.role is Role.ADMIN:
        return True
    if viewer.role is Role.EMPLOYER:
        return viewer.employer_id is not None and event.employer_id == viewer.employer_id
    if viewer.role is Role.STAFF:
        return in_division(viewer, event.regions)
    return False


def _workers_and_jobs_side(viewer: Viewer, event: Event) -> bool:
    """An application of the worker's own, or to a job of the viewer's."""
    if viewer.role is Role.WORKER:
        return viewer.worker_id is not None and event.worker_id == viewer.worker_id
    return _jobs_side(viewer, event)


def _division(viewer: Viewer, event: Event) -> bool:
    """A row in a staff member's division (any for an admin)."""
    return viewer.role is Role.ADMIN or (
        viewer.role is Role.STAFF and in_division(viewer, event.regions)
    )


def _readers(viewer: Viewer, event: Event) -> bool:
    """Whoever may read the row: the row policy decides when it is read again."""
    return True


APPLICATIONS_SUBMITTED = Feed(
    frozenset({EventType.APPLICATION_SUBMITTED}),
    frozenset({Role.EMPLOYER, Role.STAFF, Role.ADMIN}),
    "Employers, staff and admins subscribe to applications; sign in as one.",
    _jobs_side,
)
APPLICATION_STATUSES = Feed(
    frozenset({EventType.APPLICATION_STATUS_CHANGED}),
    frozenset({Role.WORKER, Role.EMPLOYER, Role.STAFF, Role.ADMIN}),
    "Workers, employers, staff and admins follow applications; sign in as one.",
    _workers_and_jobs_side,
)
SERVICE_QUEUE = Feed(
    frozenset({EventType.WORKER_REGISTERED, EventType.SKILL_SURVEY_RECORDED}),
    frozenset({Role.STAFF, Role.ADMIN}),
    "The service queue is for staff and admins; sign in as one.",
    _division,
)


def queue_division(viewer: Viewer, region_code: str | None) -> str | None:
    """The division a service queue narrows to: `region_code`, which must be a division code
    within a staff member's own (BadArgument naming `regionCode` otherwise); None: all of the
    viewer's."""
    if region_code is None:
        return None
    if not is_division_code_format(region_code):
        raise BadArgument("regionCode", "a 6-digit division code (GB/T 2260)")
    if viewer.role is Role.STAFF and not in_division(viewer, (region_code,)):
        raise BadArgument("regionCode", "outside your division")
    return region_code


TRAINING_SEATS = Feed(
    frozenset({EventType.TRAINING_SEATS_CHANGED}), None, "", _readers,
)


__all__ = [
    "APPLICATIONS_SUBMITTED",
    "APPLICATION_STATUSES",
    "CHANNEL",
    "SERVICE_QUEUE",
    "TRAINING_SEATS",
    "Event",
    "EventSource",
    "EventType",
    "Feed",
    "in_division",
    "notify",
    "parse_event",
    "queue_division",
    "regions_of",
]
