"""Schema extensions of laborhub's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from resolvers.privacy import audit_reads
from schema.context import Context


class AuditPartnerReads(SchemaExtension):
    """After a partner's operation, record which personal-data rows it returned.

    Fails closed: if the audit event can't be written, the operation fails.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        yield
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
