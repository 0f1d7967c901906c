"""Running a query compiled into SQL (`resolvers.compiler`) when it can be, for the endpoint.

`compiled_read(checked)` answers an operation that passed every check with the data of one
statement per root field, or None when the operation takes the resolver path (it says why in
the debug log). Which path ran is noted per request (`read_paths`), for the `X-Read-Path`
header outside production.

Plans are kept in a bounded LRU under the operation (`CheckedOperation.key`: document,
operation name, variables) and the viewer's policy shape (role, division, worker, employer,
partner grant: what the row policies read; not who the viewer is by name), so the same
request from anyone with the same rights is compiled once. Operations that take the resolver
path are remembered too.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from strawberry.types import ExecutionResult

from resolvers.access import Viewer
from resolvers.compiler import CompiledField, NotCompiled, Query, compile_query, run_compiled
from server.caches import BoundedCache
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


PLANS = 1_024

Plan = list[CompiledField] | NotCompiled
"""A compiled operation, or why it takes the resolver path."""

_plans: BoundedCache[Hashable, Plan] = BoundedCache(PLANS)


def policy_shape(viewer: Viewer) -> Viewer:
    """What of the viewer the row policies read: everything but who they are by name."""
    return dataclasses.replace(viewer, subject=None)


async def compiled_read(checked: CheckedOperation) -> ExecutionResult | None:
    context = checked.context
    reads = getattr(context, "reads", None)
    database = getattr(context, "database", None)
    if reads is None or database is None:
        return None
    key = None if checked.key is None else (checked.key, policy_shape(reads.viewer))
    plan = None if key is None else _plans.get(key)
    if plan is None:
        plan = await _plan(checked, reads)
        if key is not None:
            _plans.put(key, plan)
    if isinstance(plan, NotCompiled):
        log.debug("resolver path: %s", plan)
        return None
    return ExecutionResult(data=await run_compiled(database, plan), errors=None)


async def _plan(checked: CheckedOperation, reads: Any) -> Plan:
    try:
        return await compile_query(
            Query(checked.schema, checked.document, checked.operation, checked.variables, reads)
        )
    except NotCompiled as reason:
        return reason
