"""Subscriptions: live updates over WebSocket (graphql-transport-ws).

Each event (`resolvers.events`) carries ids only; a subscription sieves the events about
the subscriber's jobs (`concerns`), then reads the row again as the subscriber, with a read
gateway of its own per event (so nothing is served from an earlier event's batch), under the
row policy every read has: an event about a row the subscriber may not see sends nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from resolvers.events import SUBSCRIBING_ROLES, EventType, concerns
from resolvers.global_ids import decode_int_id
from resolvers.jobs import APPLICATION
from resolvers.reads import Reads
from schema.context import Info
from schema.jobs import Application

NOT_SUBSCRIBING = "Employers, staff and admins subscribe to applications; sign in as one."


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
        context = info.context
        viewer = context.viewer
        if viewer.role not in SUBSCRIBING_ROLES:
            raise GraphQLError(NOT_SUBSCRIBING, extensions={"code": "FORBIDDEN"})
        job = None if job_id is None else decode_int_id(job_id, "Job", "jobId")
        if context.events is None:
            raise GraphQLError("Subscriptions are served over WebSocket only.")
        async for event in context.events.events():
            if event.type is not EventType.APPLICATION_SUBMITTED:
                continue
            if not concerns(viewer, event, job):
                continue
            context.reads = Reads(context.database, viewer)
            row = await context.reads.node(APPLICATION, event.application_id)
            if row is not None:
                yield Application.from_row(row)


__all__ = ["Subscription"]
