"""Schema extensions of laborhub's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult

from resolvers.privacy import audit_reads
from schema.context import Context


class AuditReads(SchemaExtension):
    """After an operation, record the audited rows it returned: a partner's personal-data
    rows, anyone's rankings (`resolvers.rankings`).

    Fails closed: if the audit event can't be written, the operation fails.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        await self._audit()

    async def on_stream_result(self, result: StreamExecutionResult) -> AsyncIterator[None]:
        """Each result of a subscription is audited before it is sent (each event's rows are
        read by a gateway of their own: `schema.live`); one that can't be ends the
        subscription unsent."""
        await self._audit()
        yield

    async def _audit(self) -> None:
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        log = context.reads.audit_log
        if not log.reads or log.audit_deferred:
            return
        await audit_reads(
            context.database.engine,
            context.viewer,
            self.execution_context.operation_name,
            log.reads,
            context.personal_fields,
        )
