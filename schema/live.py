"""Subscriptions: live updates over WebSocket (graphql-transport-ws).

Each event (`resolvers.events`) carries ids only. A subscription draws on one `Feed`: who may
subscribe, and its sieve of the events that concern the subscriber; its arguments narrow it
further. For each event that passes, the row is read again as the subscriber, with a read
gateway of its own per event (so nothing is served from an earlier event's batch), under the
row policy every read has: an event about a row the subscriber may not see sends nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from resolvers.declarations import Entity
from resolvers.divisions import lies_within
from resolvers.events import (
    APPLICATION_STATUSES,
    APPLICATIONS_SUBMITTED,
    SERVICE_QUEUE,
    TRAINING_SEATS,
    Event,
    EventType,
    Feed,
    queue_division,
)
from resolvers.global_ids import decode_int_id
from resolvers.jobs import APPLICATION
from resolvers.reads import Reads
from resolvers.trainings import TRAINING
from resolvers.workers import SKILL_SURVEY, WORKER
from schema.context import Info
from schema.jobs import Application
from schema.node import Node
from schema.trainings import Training
from schema.workers import SkillSurvey, Worker

ONLY_WEBSOCKET = "Subscriptions are served over WebSocket only."

READ_AS: dict[EventType, tuple[Entity, type[Node]]] = {
    EventType.APPLICATION_SUBMITTED: (APPLICATION, Application),
    EventType.APPLICATION_STATUS_CHANGED: (APPLICATION, Application),
    EventType.WORKER_REGISTERED: (WORKER, Worker),
    EventType.SKILL_SURVEY_RECORDED: (SKILL_SURVEY, SkillSurvey),
    EventType.TRAINING_SEATS_CHANGED: (TRAINING, Training),
}
"""What each event is about: the entity its key names, read again, and its GraphQL type."""

QueueItem = Annotated[
    Worker | SkillSurvey,
    strawberry.union(
        "QueueItem", description="Something new in a caseworker's service queue: a worker "
        "registered, or a skill survey recorded.",
    ),
]


def _every(_event: Event) -> bool:
    return True


async def _live(
    info: Info, feed: Feed, narrow: Callable[[Event], bool] = _every
) -> AsyncGenerator[Any, None]:
    """The rows of `feed`'s events that concern the viewer and pass `narrow`, each read again
    as the viewer (events about rows it may not see are left out), as their GraphQL types."""
    context = info.context
    viewer = context.viewer
    if not feed.admits(viewer):
        raise GraphQLError(feed.refusal, extensions={"code": "FORBIDDEN"})
    if context.events is None:
        raise GraphQLError(ONLY_WEBSOCKET)
    reach = context.reads.partner_reach  # what the agreement check found the key reaches
    async for event in context.events.events():
        if not feed.concerns(viewer, event) or not narrow(event):
            continue
        entity, graphql_type = READ_AS[event.type]
        context.reads = Reads(context.database, viewer)
        context.reads.partner_reach = reach
        row = await context.reads.node(entity, event.key)
        if row is not None:
            yield graphql_type.from_row(row)


@strawberry.type(description="Live updates, over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Each new application to the viewer's jobs (an employer's own, those in a "
        "staff member's division, any for an admin), as the viewer may read it; `jobId` "
        "narrows it to one job."
    )
    async def application_submitted(
        self, info: Info, job_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Application, None]:
        job = None if job_id is None else decode_int_id(job_id, "Job", "jobId")
        async for application in _live(
            info, APPLICATIONS_SUBMITTED, lambda event: job is None or event.job_id == job
        ):
            yield application

    @strawberry.subscription(
        description="Each application whose status changes (shortlisted, rejected, hired, "
        "withdrawn): a worker's own, those to an employer's jobs, to jobs in a staff member's "
        "division, any for an admin; `applicationId` narrows it to one application."
    )
    async def application_status_changed(
        self, info: Info, application_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Application, None]:
        key = (
            None if application_id is None
            else decode_int_id(application_id, "Application", "applicationId")
        )
        async for application in _live(
            info, APPLICATION_STATUSES, lambda event: key is None or event.key == key
        ):
            yield application

    @strawberry.subscription(
        description="A caseworker's queue: each worker registered and each skill survey "
        "recorded in the staff member's division (anywhere for an admin), by the worker's "
        "current or hukou region; `regionCode` narrows it to a division within the staff "
        "member's."
    )
    async def service_queue(
        self, info: Info, region_code: str | None = None
    ) -> AsyncGenerator[QueueItem, None]:
        division = queue_division(info.context.viewer, region_code)

        def within(event: Event) -> bool:
            return division is None or any(
                lies_within(code, division) for code in event.regions
            )

        async for item in _live(info, SERVICE_QUEUE, within):
            yield item

    @strawberry.subscription(
        description="The training each time its seats change (an enrollment, a drop, a "
        "cancellation, a new capacity), with `seatsLeft`; for whoever may read it."
    )
    async def training_seats_changed(
        self, info: Info, training_id: strawberry.ID
    ) -> AsyncGenerator[Training, None]:
        key = decode_int_id(training_id, "Training", "trainingId")
        async for training in _live(info, TRAINING_SEATS, lambda event: event.key == key):
            yield training


__all__ = ["QueueItem", "Subscription"]
