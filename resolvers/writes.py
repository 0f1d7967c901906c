"""The one way a mutation writes: declared once, typed problems, one outcome, idempotent
retries, versions, the audit of personal data.

A mutation is a `Write`, declared in its domain's `resolvers/<domain>_writes.py` with
`declare_write`: its name, its input (a frozen dataclass whose fields are the GraphQL input's),
the entity of the row it returns, its domain's error codes, the roles that may call it (any
other is refused with the domain's NOT_ALLOWED and the write's `refusal`, before anything else
is looked at), and two functions: `check` (the problems found without SQL: malformed fields,
a viewer who may not act on those) and `work` (the rest, inside the transaction).
`schema/mutations.py` makes its `<Name>Input`, `<Name>Payload` and root field from the
declaration alone, and `perform` runs it. A write returns an `Outcome`: the row it made
or changed, or the `Problem`s that kept it from changing anything, each with a member of its
domain's code enum (`JobErrorCode.NOT_FOUND`), so a misspelt code is a type error, not a failure
at run time. The steps `perform` takes, each usable alone:

- `transaction(engine, work)`: one transaction around everything a write does, committed only
  when the outcome has no problems; an expected failure, like an exception, leaves nothing.
- `once(connection, idempotency, retry, work)`: a retry with the same key returns what the
  first request did (also under concurrent retries), a key reused for another request is the
  domain's `reused` problem, and the key is recorded only when the work succeeded.
- `versioned_update(connection, table, key, expected_version, values, viewer=...)`: changes a
  row only at the version its caller read, bumps that version, and tells a row the viewer can't
  see (`Unchanged.MISSING`) from one that changed meanwhile (`Unchanged.STALE`);
  `versioned_outcome` turns what it did into the write's outcome.
- `seen_row(connection, entity, key, viewer, lock=...)`: a row the viewer may see, locked for
  the rest of the transaction when the write is to change it or what depends on it; and
  `serialized(connection, *parts)`, a lock on a value (a posting's employer, title and county)
  where there is no row to lock yet.
- an audit event for a write of personal data (`Write.audited`), in the same transaction,
  naming the row it returns and the other personal rows it made (`Tx.also_wrote`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry import UNSET

from db.models import IdempotencyKey
from db.models.base import table_of
from db.pii import PersonalDataVault
from resolvers.access import Role, Viewer
from resolvers.audit import record_audit_event
from resolvers.catalog import visible
from resolvers.declarations import Entity
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_int_id, encode_global_id
from resolvers.pagination import readable_columns

C = TypeVar("C", bound=Enum)
RowT = TypeVar("RowT")

KEYS = table_of(IdempotencyKey)
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class Problem(Generic[C]):
    """An expected failure of a write: reported in `userErrors`, nothing changed."""

    field: tuple[str, ...]  # the input field at fault, e.g. ("salaryMax",); () for the whole
    code: C  # a member of the mutation's <Domain>ErrorCode enum
    message: str


@dataclass(frozen=True)
class Outcome(Generic[RowT, C]):
    """What a write did: its row, or the problems that kept it from doing anything."""

    row: RowT | None
    problems: tuple[Problem[C], ...] = ()

    def __post_init__(self) -> None:
        if (self.row is None) == (not self.problems):
            raise ValueError("an outcome has either a row or problems")


def done(row: RowT) -> Outcome[RowT, C]:
    return Outcome(row, ())


def failed(*problems: Problem[C]) -> Outcome[RowT, C]:
    return Outcome(None, problems)


Work = Callable[[AsyncConnection], Awaitable[Outcome[RowT, C]]]


async def transaction(engine: AsyncEngine, work: Work[RowT, C]) -> Outcome[RowT, C]:
    """`work` in one transaction: committed when it succeeds, rolled back when it reports
    problems or raises."""
    async with engine.connect() as connection, connection.begin() as current:
        outcome = await work(connection)
        if outcome.problems:
            await current.rollback()
        return outcome


def decoded_key(value: str, type_name: str, field: str, invalid: C) -> int | Problem[C]:
    """The database key behind the global ID of a `type_name` in input `field`, or the
    domain's `invalid` problem naming that field."""
    try:
        return decode_int_id(value, type_name, field)
    except BadArgument:
        noun = type_name[0].lower() + type_name[1:]
        article = "an" if noun[0] in "aeiou" else "a"
        return Problem((field,), invalid, f"Not the ID of {article} {noun}.")


def fingerprint(request: Any, vault: PersonalDataVault) -> str:
    """A hash of a request (a dataclass instance): the same request gives the same hash, a
    retry with other values does not. Keyed (the vault's lookup hash), because a request may
    hold personal data (an ID number) that a plain hash of it would give away to a search of
    its few possible values."""
    text = json.dumps(asdict(request), default=repr, sort_keys=True)
    return vault.lookup_hash("request", text).hex()


@dataclass(frozen=True)
class Idempotency(Generic[C]):
    """How retries of one operation are recognised: its name (its keys' namespace), the
    declared entity its results are rows of (read again for a retry), and its domain's codes
    for a malformed key and for a key reused with another request."""

    operation: str
    entity: Entity
    invalid: C
    reused: C

    def key_problem(self, key: str | None) -> Problem[C] | None:
        if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
            return Problem(("idempotencyKey",), self.invalid, "Must be 1–128 characters.")
        return None


@dataclass(frozen=True)
class Retry:
    """One request that may be a retry: whose, under which key, and what it asked."""

    principal: str
    key: str
    fingerprint: str


def retry_of(
    viewer: Viewer, key: str | None, request: Any, vault: PersonalDataVault
) -> Retry | None:
    """The retry identity of `request` (a dataclass instance); None when it has no key."""
    return None if key is None else Retry(viewer.principal, key, fingerprint(request, vault))


async def once(
    connection: AsyncConnection,
    idempotency: Idempotency[C],
    retry: Retry | None,
    work: Work[RowMapping, C],
) -> Outcome[RowMapping, C]:
    """`work`, unless a request with this key already did it: then what it did."""
    if retry is None:
        return await work(connection)
    # Concurrent retries with one key wait here for each other rather than both writing.
    await serialized(connection, idempotency.operation, retry.principal, retry.key)
    earlier = await _earlier_outcome(connection, idempotency, retry)
    if earlier is not None:
        return earlier
    outcome = await work(connection)
    if outcome.row is not None:
        await connection.execute(
            insert(KEYS).values(
                principal=retry.principal, operation=idempotency.operation, key=retry.key,
                request_sha256=retry.fingerprint,
                result_id=outcome.row[_key_column(idempotency.entity).key],
            )
        )
    return outcome


async def _earlier_outcome(
    connection: AsyncConnection, idempotency: Idempotency[C], retry: Retry
) -> Outcome[RowMapping, C] | None:
    earlier = (
        await connection.execute(
            select(KEYS.c.request_sha256, KEYS.c.result_id).where(
                KEYS.c.principal == retry.principal,
                KEYS.c.operation == idempotency.operation,
                KEYS.c.key == retry.key,
            )
        )
    ).first()
    if earlier is None:
        return None
    if earlier.request_sha256 != retry.fingerprint:
        return failed(Problem(
            ("idempotencyKey",), idempotency.reused,
            "This key was used for a different request; use a new key for new input.",
        ))
    table = idempotency.entity.table
    result = await connection.execute(
        select(*readable_columns(table)).where(
            _key_column(idempotency.entity) == earlier.result_id
        )
    )
    row = result.mappings().first()
    if row is None:
        raise LookupError(
            f"{idempotency.operation} key {retry.key!r} names {table.name} "
            f"{earlier.result_id}, which is gone"
        )
    return done(row)


async def serialized(connection: AsyncConnection, *parts: Any) -> None:
    """Wait until no other transaction holds the lock named by `parts` (JSON values), then
    hold it until this one ends: for a check of what does not exist yet (a duplicate), where
    no row can be locked."""
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
        {"lock": json.dumps(list(parts), default=str)},
    )


async def seen_row(
    connection: AsyncConnection,
    entity: Entity,
    key: Any,
    viewer: Viewer,
    *,
    lock: bool = False,
    share: bool = False,
) -> RowMapping | None:
    """The row `key` of `entity` if `viewer` may see it; with `lock`, locked (FOR UPDATE)
    until the transaction ends, so that what the write checks of it still holds when it
    commits (the last opening of a job, hired twice at once); with `share`, kept from
    changing meanwhile (FOR SHARE) while other writes may read it too."""
    table = entity.table
    statement = select(*readable_columns(table)).where(
        _key_column(entity) == key, visible(viewer, table)
    )
    if lock or share:
        statement = statement.with_for_update(of=table, read=not lock)
    return (await connection.execute(statement)).mappings().first()


class Unchanged(Enum):
    """Why `versioned_update` changed nothing."""

    MISSING = "missing"  # no such row, or none the viewer may see
    STALE = "stale"  # the row is at another version than the caller read


async def versioned_update(
    connection: AsyncConnection,
    entity: Entity,
    key: Any,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    viewer: Viewer,
) -> RowMapping | Unchanged:
    """Set `values` on the row `key` of `entity` if `viewer` may see it and it is still at
    `expected_version`; its version goes up by one. The changed row, or why nothing changed."""
    table = entity.table
    version = table.c.get("version")
    if version is None:
        raise ValueError(f"table {table.name} has no version column")
    if "version" in values:
        raise ValueError("versioned_update bumps the version itself: leave it out of values")
    key_column = _key_column(entity)
    may_see = visible(viewer, table)
    changed = await connection.execute(
        update(table)
        .where(key_column == key, version == expected_version, may_see)
        .values(**values, version=version + 1)
        .returning(*readable_columns(table))
    )
    row = changed.mappings().first()
    if row is not None:
        return row
    current = await connection.execute(select(version).where(key_column == key, may_see))
    return Unchanged.MISSING if current.first() is None else Unchanged.STALE


def versioned_outcome(
    changed: RowMapping | Unchanged, missing: Problem[C], stale: C, version: int, noun: str
) -> Outcome[RowMapping, C]:
    """What a `versioned_update` did as a write's outcome: the row, `missing` when the viewer
    may not see it, or `stale` naming the `version` field."""
    if changed is Unchanged.MISSING:
        return failed(missing)
    if changed is Unchanged.STALE:
        return failed(Problem(
            ("version",), stale,
            f"Version {version} is not the {noun}'s current one; read it again.",
        ))
    return done(changed)


def _key_column(entity: Entity) -> Column[Any]:
    if entity.key is None:
        raise ValueError(f"{entity.name} has no key of its own to write by")
    return entity.key


# --- declared writes -----------------------------------------------------------------------

InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Tx:
    """What a write's work runs with: its transaction's connection, who asks, the vault."""

    connection: AsyncConnection
    viewer: Viewer
    vault: PersonalDataVault
    # Global IDs of personal rows the work made besides the one it returns (audited with it).
    also_written: list[str] = field(default_factory=list)

    def also_wrote(self, type_name: str, key: Any) -> None:
        """Note a personal row the work made besides its own (a hire's placement)."""
        self.also_written.append(encode_global_id(type_name, key))

    async def change(
        self, entity: Entity, key: Any, version: int, values: dict[str, Any],
        missing: Problem[C], stale: C,
    ) -> Outcome[RowMapping, C]:
        """Set `values` on the `entity` row `key` the viewer sees, at the `version` the client
        read: the changed row, `missing` when the viewer can't see it, or `stale`."""
        changed = await versioned_update(
            self.connection, entity, key, version, values, viewer=self.viewer
        )
        return versioned_outcome(changed, missing, stale, version, entity.name.lower())


Check = Callable[[Viewer, InputT], Iterable[Problem[C]]]
"""The problems of a request found without SQL: fields that can't be, a role that may not."""
WriteWork = Callable[[Tx, InputT], Awaitable[Outcome[RowMapping, C]]]
"""The rest of a write, inside its transaction: the row it made or changed, or problems."""


def no_problems(_viewer: Viewer, _request: Any) -> tuple[()]:
    return ()


@dataclass(frozen=True)
class Write(Generic[InputT, C]):
    """One mutation, declared once; see the module docstring."""

    name: str  # the GraphQL field (`registerWorker`), also its retries' namespace
    description: str
    input: type[InputT]  # a frozen dataclass: the `<Name>Input` fields, in order
    returns: Entity  # its payload holds a row of this entity (`RegisterWorkerPayload.worker`)
    codes: type[C]  # the domain's error codes: INVALID, and IDEMPOTENCY_KEY_REUSED if idempotent
    work: WriteWork[InputT, C]
    check: Check[InputT, C] = no_problems
    # The roles that may call it (all when None), and what the others are told.
    roles: frozenset[Role] | None = None
    refusal: str = ""
    idempotent: bool = False  # takes an `idempotencyKey` (writes that create)
    # The personal fields it writes (`Worker.idNumber`), or a function of its input that
    # names those a request writes: each success that writes any is audited.
    audited: tuple[str, ...] | Callable[[InputT], tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        members = self.codes.__members__
        needed = ["INVALID", "IDEMPOTENCY_KEY_REUSED"] if self.idempotent else ["INVALID"]
        if self.roles is not None:
            needed.append("NOT_ALLOWED")
            if not self.refusal:
                raise TypeError(f"{self.name}: roles need a refusal to tell the others")
        missing = [name for name in needed if name not in members]
        if missing:
            raise TypeError(f"{self.name}: {self.codes.__name__} lacks {', '.join(missing)}")
        if not dataclasses.is_dataclass(self.input):
            raise TypeError(f"{self.name}: its input must be a dataclass")

    def audited_fields(self, request: InputT) -> tuple[str, ...]:
        return self.audited(request) if callable(self.audited) else self.audited

    @property
    def idempotency(self) -> Idempotency[C]:
        members = self.codes.__members__
        reused = members.get("IDEMPOTENCY_KEY_REUSED", members["INVALID"])
        return Idempotency(self.name, self.returns, members["INVALID"], reused)


WRITES: dict[str, Write[Any, Any]] = {}
"""Every declared write by name, filled as the domain modules are imported."""


def declare_write(write: Write[InputT, C]) -> Write[InputT, C]:
    if write.name in WRITES:
        raise ValueError(f"the write {write.name} is declared twice")
    WRITES[write.name] = write
    return write


async def perform(
    write: Write[InputT, C],
    engine: AsyncEngine,
    vault: PersonalDataVault,
    viewer: Viewer,
    request: InputT,
    idempotency_key: str | None = None,
) -> Outcome[RowMapping, C]:
    """Run `write` for `viewer`: its checks, then its work in one transaction (once per
    idempotency key), audited when it writes personal data."""
    idempotency = write.idempotency
    if write.roles is not None and viewer.role not in write.roles:
        return failed(Problem((), write.codes.__members__["NOT_ALLOWED"], write.refusal))
    problems = list(write.check(viewer, request))
    key_problem = idempotency.key_problem(idempotency_key) if write.idempotent else None
    if key_problem is not None:
        problems.append(key_problem)
    if problems:
        return failed(*problems)

    audited = write.audited_fields(request)

    async def work(connection: AsyncConnection) -> Outcome[RowMapping, C]:
        tx = Tx(connection, viewer, vault)
        outcome = await write.work(tx, request)
        if outcome.row is not None and audited:
            key = outcome.row[_key_column(write.returns).key]
            await record_audit_event(
                connection, viewer, write.name,
                [encode_global_id(write.returns.name, key), *tx.also_written],
                audited, purpose=None,
            )
        return outcome

    retry = retry_of(viewer, idempotency_key, request, vault) if write.idempotent else None
    return await transaction(engine, lambda c: once(c, idempotency, retry, work))


UNCHANGED: Any = UNSET
"""The value of an update's input field the client left out, which the write leaves as it is
(Strawberry gives an input's omitted field its `UNSET`; null stays None: a cleared value).
Declared as a field's default: `phone: str | None = described("...", default=UNCHANGED)`."""


def described(doc: str, **options: Any) -> Any:
    """A write's input field with its description (and a `default=` when it has one)."""
    return dataclasses.field(metadata={"doc": doc}, **options)
