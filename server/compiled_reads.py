"""Running a query compiled into SQL (`resolvers.compiler`) when it can be, for the endpoint.

`compiled_read(checked)` answers an operation that passed every check with the data of one
statement per root field, or None when the operation takes the resolver path (it says why in
the debug log). Which path ran is noted per request (`read_paths`), for the `X-Read-Path`
header outside production.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from strawberry.types import ExecutionResult

from resolvers.compiler import NotCompiled, Query, compile_query, run_compiled
from server.operation_checks import CheckedOperation

log = logging.getLogger("laborhub.compiled_reads")

_paths: ContextVar[list[str] | None] = ContextVar("laborhub_read_paths", default=None)


@contextmanager
def read_paths() -> Iterator[list[str]]:
    """Within the block, the path each operation took is appended to the list."""
    paths: list[str] = []
    token = _paths.set(paths)
    try:
        yield paths
    finally:
        _paths.reset(token)


def note_path(path: str) -> None:
    paths = _paths.get()
    if paths is not None:
        paths.append(path)


async def compiled_read(checked: CheckedOperation) -> ExecutionResult | None:
    context = checked.context
    reads = getattr(context, "reads", None)
    database = getattr(context, "database", None)
    if reads is None or database is None:
        return None
    try:
        compiled = await compile_query(
            Query(checked.schema, checked.document, checked.operation, checked.variables, reads)
        )
    except NotCompiled as reason:
        log.debug("resolver path: %s", reason)
        return None
    return ExecutionResult(data=await run_compiled(database.engine, compiled), errors=None)
