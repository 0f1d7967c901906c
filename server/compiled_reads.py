"""Running a query compiled into SQL (`resolvers.compiler`) where it can be, for the endpoint.

`compiled_read(checked, resolve)` answers an operation that passed every check: each root
field the compiler could compile is one SQL statement returning its JSON, and the others
(`Fallback`s) are answered by `resolve(document)`, the resolver path, run on a document that
selects only them; the two are merged in the order of the response. It answers None when the
resolver path should run the whole operation as sent (a mutation, or no root field
compiled). Which path answered each root field is noted per request (`read_paths`), for the
`X-Read-Path` header and the `readPaths` response extension outside production.

Plans are kept in a bounded LRU under the operation (`CheckedOperation.key`: document,
operation name, variables, where a variable that only names a `node` by ID counts by the
type it names, one that only gives a root list's cursor by the ordering it carries, and one
that gives a root list's filter by which of its fields are given: their values are
parameters, so one plan serves every job's detail page, every page of a list and every
search; see `resolvers.compiler.variables`) and the viewer's policy shape (role, division,
partner grant: what the row policies read; not who the viewer is by name), so the same request
from anyone with the same rights is compiled once. What the row policies read of the viewer
(a worker's or employer's own id, a staff member's division, a partner's regions and consent
purpose) are parameters of the plan too (`resolvers.viewer_parameters`), so one plan serves
every worker, every division and every partner key of the same agreement: compiling it a
second time for a `probe` viewer, whose values no row has, must give the same statements with
only those parameters changed, or the plan is kept for that viewer alone (`OWN_PLANS`), as it
is when compiling looked up a row not every viewer sees. Operations that take the resolver
path are remembered too, except where a value made them (`plan_is_kept`).
"""

from __future__ import annotations

import dataclasses
import logging
import operator
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.types import ExecutionResult

from resolvers.access import Viewer
from resolvers.catalog import shows_every_row
from resolvers.compiler import (
    CompiledField,
    Fallback,
    NotCompiled,
    Query,
    compile_query,
    run_compiled,
    take_audited,
)
from resolvers.declarations import Entity
from resolvers.errors import BadArgument
from resolvers.privacy import audit_reads
from resolvers.viewer_parameters import probe, shared_shape
from server.caches import BoundedCache
from server.operation_checks import CheckedOperation

log = logging.getLogger("laborhub.compiled_reads")

COMPILED = "compiled"
RESOLVERS = "resolvers"

ReadPaths = dict[str, str]
"""Response key of a root field -> the path that answered it (`COMPILED` or `RESOLVERS`)."""

_paths: ContextVar[list[ReadPaths] | None] = ContextVar("laborhub_read_paths", default=None)


@contextmanager
def read_paths() -> Iterator[list[ReadPaths]]:
    """Within the block, the paths of each operation's root fields are appended to the list."""
    paths: list[ReadPaths] = []
    token = _paths.set(paths)
    try:
        yield paths
    finally:
        _paths.reset(token)


def note_paths(paths: ReadPaths) -> None:
    noted = _paths.get()
    if noted is not None:
        noted.append(paths)


def path_summary(paths: ReadPaths) -> str:
    """`compiled`, `resolvers`, or `compiled+resolvers` when the root fields took both."""
    taken = set(paths.values())
    return "+".join(path for path in (COMPILED, RESOLVERS) if path in taken) or RESOLVERS


@dataclass(frozen=True)
class Plan:
    """A compiled operation: its root fields in response order, the document selecting only
    the fallbacks (None when every root field compiled), and the personal-data rows that
    compiling it read for a partner (filter rules look up the rows they name), which every
    run audits as the resolver path would."""

    fields: tuple[CompiledField | Fallback, ...]
    fallback_document: DocumentNode | None
    lookups: tuple[tuple[str, frozenset[Any]], ...] = ()

    @property
    def paths(self) -> ReadPaths:
        return {
            part.key: RESOLVERS if isinstance(part, Fallback) else COMPILED
            for part in self.fields
        }


PLANS = 1_024

_plans: BoundedCache[Hashable, Plan | NotCompiled | _OwnPlans] = BoundedCache(PLANS)

Resolve = Callable[[DocumentNode], Awaitable[ExecutionResult]]
"""`resolve(document)`: the resolver path's result for `document` (validated as a part of
the operation's own document)."""


_POLICY_FIELD_NAMES = tuple(
    f.name for f in dataclasses.fields(Viewer) if f.compare and f.name != "subject"
)
_POLICY_FIELDS = operator.attrgetter(*_POLICY_FIELD_NAMES)


def policy_shape(viewer: Viewer) -> Hashable:
    """What of the viewer the row policies read: everything but who they are by name."""
    return _POLICY_FIELDS(viewer)


class _OwnPlans:
    """Kept under an operation's shared key: its plans are kept per viewer instead."""


OWN_PLANS = _OwnPlans()


async def compiled_read(checked: CheckedOperation, resolve: Resolve) -> ExecutionResult | None:
    context = checked.context
    reads = getattr(context, "reads", None)
    database = getattr(context, "database", None)
    if reads is None or database is None:
        return None
    viewer = reads.viewer
    plan = _kept_plan(checked, viewer)
    if plan is None:
        plan, shared = await _plan(checked, reads)
        if checked.key is not None and plan_is_kept(plan):
            _keep(checked.key, viewer, plan, shared)
    if isinstance(plan, NotCompiled):
        note_paths({})
        return None
    compiled = [part for part in plan.fields if isinstance(part, CompiledField)]
    try:
        parameters = [part.bound(checked.variables, viewer) for part in compiled]
    except BadArgument:  # a bound variable this plan can't take: the resolver path says why
        compiled = []
    if not compiled:
        note_paths(dict.fromkeys(plan.paths, RESOLVERS))
        return None
    note_paths(plan.paths)
    # A partner's data, and any ranking's, is read for its audit marks; anything else goes out
    # as PostgreSQL wrote it.
    marked = viewer.partner is not None or any(part.audited for part in compiled)
    data = await run_compiled(database, compiled, parameters, parsed=marked)
    if plan.fallback_document is None:
        await _audit_reads(checked, reads, plan, data)
        return ExecutionResult(data=data, errors=None)
    log = reads.audit_log
    log.audit_deferred = True  # audited below, once, with what the compiled part showed
    try:
        resolved = await resolve(plan.fallback_document)
    finally:
        log.audit_deferred = False
    if resolved.data is None:  # a non-null root field failed: the whole data is null
        await _audit_reads(checked, reads, plan, None)
        return resolved
    merged = {
        part.key: data[part.key] if isinstance(part, CompiledField) else resolved.data.get(part.key)
        for part in plan.fields
    }
    await _audit_reads(checked, reads, plan, merged)
    return ExecutionResult(data=merged, errors=resolved.errors, extensions=resolved.extensions)


def _kept_plan(checked: CheckedOperation, viewer: Viewer) -> Plan | NotCompiled | None:
    """The plan kept for this operation and any viewer of this one's shape, else for this
    viewer (`OWN_PLANS`), else None."""
    if checked.key is None:
        return None
    plan = _plans.get((checked.key, shared_shape(viewer)))
    if plan is OWN_PLANS:
        plan = _plans.get((checked.key, policy_shape(viewer)))
    assert not isinstance(plan, _OwnPlans)
    return plan


def _keep(key: Hashable, viewer: Viewer, plan: Plan | NotCompiled, shared: bool) -> None:
    shared_key = (key, shared_shape(viewer))
    if shared and _plans.get(shared_key) is not OWN_PLANS:
        _plans.put(shared_key, plan)
        return
    _plans.put(shared_key, OWN_PLANS)
    _plans.put((key, policy_shape(viewer)), plan)


def plan_is_kept(plan: Plan | NotCompiled) -> bool:
    """Whether a plan serves every request of its key: not when a value made a root field
    fall back (another value of the same shape may compile)."""
    return isinstance(plan, NotCompiled) or not any(
        isinstance(part, Fallback) and part.by_value for part in plan.fields
    )


async def _audit_reads(
    checked: CheckedOperation, reads: Any, plan: Plan, data: dict[str, Any] | None
) -> None:
    """One audit event for the audited rows the operation showed (those in `data`, whose audit
    marks come out here, and those the resolver path noted) and those compiling it looked up,
    as the resolver path audits after any operation: a partner's personal-data rows, and
    anyone's rankings (`resolvers.rankings`)."""
    _note_audited_reads(reads, plan, data)
    if reads.audit_log.reads:
        await audit_reads(
            checked.context.database.engine, reads.viewer, _name(checked.operation),
            reads.audit_log.reads, getattr(checked.context, "personal_fields", set()),
        )


def _note_audited_reads(reads: Any, plan: Plan, data: dict[str, Any] | None) -> None:
    """Into the request's audit log: the rows the data holds (their audit marks taken
    out) and those compiling the plan looked up."""
    found: dict[str, set[Any]] = {}
    take_audited(data, found)
    log = reads.audit_log.reads
    for type_name, keys in (*found.items(), *plan.lookups):
        log[type_name].update(keys)


def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None


async def _plan(checked: CheckedOperation, reads: Any) -> tuple[Plan | NotCompiled, bool]:
    """The operation's plan for this viewer, and whether it serves every viewer of the same
    shared shape: not when compiling looked up rows only some viewers see (a filter naming
    a worker), nor when what it reads of the viewer is in it other than as its parameters."""
    noting = _NotingLookups(reads)
    try:
        fields = await _compiled(checked, noting)
    except NotCompiled as reason:
        return reason, not noting.looked_up_private
    fallbacks = [part for part in fields if isinstance(part, Fallback)]
    for fallback in fallbacks:
        log.debug("resolver path for %s: %s", fallback.key, fallback.reason)
    document = None
    if fallbacks and len(fallbacks) < len(fields):
        document = _selecting(checked.document, checked.operation, fallbacks)
    lookups = tuple((name, frozenset(keys)) for name, keys in reads.audit_log.reads.items())
    shared = not noting.looked_up_private and await _alike_for_other_viewers(checked, reads, fields)
    return Plan(tuple(fields), document, lookups), shared


async def _compiled(checked: CheckedOperation, reads: Any) -> list[CompiledField | Fallback]:
    return await compile_query(
        Query(checked.schema, checked.document, checked.operation, checked.variables, reads)
    )


async def _alike_for_other_viewers(
    checked: CheckedOperation, reads: Any, fields: list[CompiledField | Fallback]
) -> bool:
    """Whether what the plan reads of the viewer reaches it only as its viewer parameters: the
    same operation compiled for a `probe` viewer, who differs only by values no row has, must
    give the same statements, with those parameters alone changed."""
    other_viewer = probe(reads.viewer)
    if other_viewer is None:
        return True
    try:
        other = await _compiled(checked, _NotingLookups(reads, other_viewer))
    except NotCompiled:
        return False
    return len(fields) == len(other) and all(map(_alike, fields, other))


def _alike(mine: CompiledField | Fallback, other: CompiledField | Fallback) -> bool:
    if not isinstance(mine, CompiledField) or not isinstance(other, CompiledField):
        return mine == other
    viewer_values = {index for index, _ in mine.viewer_values}
    return (
        (mine.key, mine.sql, mine.typename, mine.viewer_values)
        == (other.key, other.sql, other.typename, other.viewer_values)
        and [i for i, _ in mine.variables] == [i for i, _ in other.variables]
        and len(mine.parameters) == len(other.parameters)
        and all(
            i in viewer_values or (type(a) is type(b) and a == b)
            for i, (a, b) in enumerate(zip(mine.parameters, other.parameters, strict=True))
        )
    )


class _NotingLookups:
    """The request's reads, for compiling (as `viewer`, when given): notes whether a filter
    rule looked up a row of an entity that not every viewer sees (whether it exists depends
    on who asks)."""

    def __init__(self, reads: Any, viewer: Viewer | None = None) -> None:
        self._reads = reads
        self.looked_up_private = False
        if viewer is not None:
            self.viewer = viewer

    async def node(self, entity: Entity, key: Any) -> Any:
        if not shows_every_row(entity):
            self.looked_up_private = True
        return await self._reads.node(entity, key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)


def _selecting(
    document: DocumentNode, operation: OperationDefinitionNode, fallbacks: list[Fallback]
) -> DocumentNode:
    """`document` with `operation` selecting only the fallbacks' root fields."""
    selections = tuple(node for fallback in fallbacks for node in fallback.nodes)
    only = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=selections),
    )
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    return DocumentNode(definitions=(only, *fragments))
