"""What records that belong to a worker (applications, enrollments, contributions) share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.context import Info
from schema.node import load_node

if TYPE_CHECKING:
    from schema.workers import Worker


@strawberry.type
class WorkerRecord:
    worker_id: strawberry.Private[int]

    @strawberry.field(description="Null when the viewer may not see this worker.")
    async def worker(
        self, info: Info
    ) -> Annotated[Worker, strawberry.lazy("schema.workers")] | None:
        from schema.workers import Worker

        return await load_node(info, Worker, self.worker_id)
