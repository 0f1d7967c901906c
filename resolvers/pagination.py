"""Keyset pagination: validated page requests, opaque cursors, page queries.

A cursor names the ordering it was made under and holds that row's sort value and id, so a
page starts exactly after (or before) that row however many rows were inserted meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    FromClause,
    Numeric,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping

from resolvers.errors import BadArgument, InvalidValue
from resolvers.global_ids import MAX_INT_KEY, int_key
from resolvers.input_values import (
    fits_numeric,
    parse_date,
    parse_date_time,
    parse_decimal,
    text_problem,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Ordering:
    """Sort by `column`, then by the primary key, both in one direction."""

    name: str
    column: Column[Any]
    id_column: Column[Any]
    descending: bool

    @classmethod
    def of(cls, column: Column[Any], descending: bool) -> Ordering:
        """Sort by `column` (of a table with an `id` key), ties broken by that key."""
        return cls(
            name=f"{column.key}:{'desc' if descending else 'asc'}",
            column=column,
            id_column=column.table.c.id,
            descending=descending,
        )

    def order_by(
        self, reverse: bool, within: FromClause | None = None
    ) -> list[ColumnElement[Any]]:
        """The ORDER BY terms, on the table's columns or on those of `within`, a subquery of
        the table. Rows without a sort value (a nullable column's NULLs) come last in either
        direction, so first when reversed."""
        down = self.descending != reverse
        column: ColumnElement[Any] = self.column
        id_column: ColumnElement[Any] = self.id_column
        if within is not None:
            column, id_column = within.c[self.column.key], within.c[self.id_column.key]
        sort = column.desc() if down else column.asc()
        if self.column.nullable:
            sort = sort.nulls_first() if reverse else sort.nulls_last()
        return [sort, id_column.desc() if down else id_column.asc()]

    def after(self, key: tuple[Any, Any], reverse: bool) -> ColumnElement[bool]:
        """Rows that come after `key` in this ordering (before it when `reverse`). The sort
        value is None for a row without one, or a parameter that may hold NULL (a plan's)."""
        down = self.descending != reverse
        value, id_key = key
        row = tuple_(self.column, self.id_column)
        beyond = row < tuple_(value, id_key) if down else row > tuple_(value, id_key)
        if not self.column.nullable:
            return beyond
        # NULLs sort last: after a row with a value come greater values, then every NULL;
        # after a NULL only NULLs with a greater id (reversed: the other way round).
        unset = self.column.is_(None)
        beyond_id = self.id_column < id_key if down else self.id_column > id_key
        after_value = beyond if reverse else or_(beyond, unset)
        after_null = and_(unset, beyond_id)
        if reverse:
            after_null = or_(after_null, self.column.is_not(None))
        if isinstance(value, BindParameter):
            return or_(
                and_(value.is_not(None), after_value), and_(value.is_(None), after_null)
            )
        return after_null if value is None else after_value


@dataclass(frozen=True)
class PageRequest:
    """A validated `first/after/last/before` combination."""

    size: int
    backward: bool
    cursor: str | None
    cursor_argument: str


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    if first is not None and last is not None:
        raise BadArgument("last", "give either 'first' or 'last', not both")
    for name, value in (("first", first), ("last", last)):
        if value is not None:
            page_size(name, value)
    if last is not None or (before is not None and first is None):
        if after is not None:
            raise BadArgument("after", "'after' pages forward; it can't go with 'last'/'before'")
        return PageRequest(DEFAULT_PAGE_SIZE if last is None else last, True, before, "before")
    if before is not None:
        raise BadArgument("before", "'before' pages backward; it can't go with 'first'")
    return PageRequest(DEFAULT_PAGE_SIZE if first is None else first, False, after, "after")


def page_size(argument: str, value: Any) -> int:
    """A `first`/`last` value, checked."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PAGE_SIZE:
        raise BadArgument(argument, f"must be between 0 and {MAX_PAGE_SIZE}, got {value}")
    return value


@dataclass(frozen=True)
class Page:
    rows: list[RowMapping]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(ordering: Ordering, row: RowMapping) -> str:
    """URL-safe base64 of the JSON `[ordering name, sort value as text or null, id]`, UTF-8 as it is
    (`resolvers.compiler.json_sql.cursor_json` writes the same in SQL)."""
    value = row[ordering.column.key]
    text: str | None = (
        None if value is None
        else value.isoformat() if isinstance(value, date | datetime) else str(value)
    )
    raw = json.dumps([ordering.name, text, row[ordering.id_column.key]], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(ordering: Ordering, request: PageRequest) -> tuple[Any, Any] | None:
    """The (sort value, id) a cursor holds; anything but a cursor this list made, for this
    `orderBy`, with values of the columns' types, is a BadArgument."""
    if request.cursor is None:
        return None
    argument = request.cursor_argument
    parts = _cursor_parts(request.cursor)
    if parts is None:
        raise BadArgument(argument, NOT_A_CURSOR)
    name, text, key = parts
    if name != ordering.name:
        raise BadArgument(argument, "the cursor was made for a different orderBy")
    if text is None:
        if not ordering.column.nullable:
            raise BadArgument(argument, NOT_A_CURSOR)
        return None, key
    try:
        return _sort_value(ordering.column, text), key
    except (InvalidValue, ValueError):
        raise BadArgument(argument, NOT_A_CURSOR) from None


def cursor_ordering(cursor: str) -> str | None:
    """The name of the ordering a cursor was made under; None for what is no cursor."""
    parts = _cursor_parts(cursor)
    return None if parts is None else parts[0]


NOT_A_CURSOR = "not a cursor of this list"
MAX_CURSOR_CHARS = 512


def _cursor_parts(cursor: str) -> tuple[str, str | None, int] | None:
    """The [ordering name, sort value text or null, id] inside a canonical cursor, or None."""
    if len(cursor) > MAX_CURSOR_CHARS:
        return None
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        parts = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeError, ValueError, RecursionError):
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii") != cursor:
        return None
    if not isinstance(parts, list) or len(parts) != 3:
        return None
    name, text, key = parts
    if not isinstance(name, str):
        return None
    if text is not None and (not isinstance(text, str) or text_problem(text)):
        return None
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key <= MAX_INT_KEY:
        return None
    return name, text, key


def _sort_value(column: ColumnElement[Any], text: str) -> Any:
    """The value of `column`'s type that `text` writes; InvalidValue/ValueError if none."""
    column_type = column.type
    python_type = column_type.python_type
    if python_type is datetime:
        return parse_date_time(text)
    if python_type is date:
        return parse_date(text)
    if python_type is Decimal:
        value = parse_decimal(text)
        if not _column_holds(column_type, value):
            raise InvalidValue("out of the column's range")
        return value
    if python_type is int:
        number = int_key(text)
        if number is None:
            raise InvalidValue("not an integer")
        return number
    if python_type is str:
        return text
    raise InvalidValue(f"no cursors over {python_type.__name__} columns")


def _column_holds(column_type: Any, value: Decimal) -> bool:
    if isinstance(column_type, Numeric) and column_type.precision is not None:
        return fits_numeric(value, column_type.precision, column_type.scale or 0)
    return True


def readable_columns(table: Table) -> list[ColumnElement[Any]]:
    """Every column but ciphertexts, lookup hashes and others no read path needs (`UNREAD`)."""
    return [
        c for c in table.c
        if not c.key.endswith(("_encrypted", "_hash")) and c.info.get("read", True)
    ]


def page_query(
    table: Table,
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    request: PageRequest,
) -> Select[Any]:
    """One page (plus one row to tell whether more exist) of `table` under `where`."""
    stmt = select(*readable_columns(table)).where(*where)
    key = decode_cursor(ordering, request)
    if key is not None:
        stmt = stmt.where(ordering.after(key, request.backward))
    return stmt.order_by(*ordering.order_by(request.backward)).limit(request.size + 1)


def page_from_rows(
    rows: Sequence[RowMapping], ordering: Ordering, request: PageRequest
) -> Page:
    more = len(rows) > request.size
    kept = list(rows[: request.size])
    if request.backward:
        kept.reverse()
    cursors = [encode_cursor(ordering, row) for row in kept]
    came_from_cursor = request.cursor is not None
    if request.backward:
        return Page(kept, cursors, has_next_page=came_from_cursor, has_previous_page=more)
    return Page(kept, cursors, has_next_page=more, has_previous_page=came_from_cursor)


def per_parent_page_query(
    table: Table,
    parent_column: Column[Any],
    parent_keys: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    request: PageRequest,
) -> Select[Any]:
    """The same page for many parents in one statement: for each key of `unnest($1)`, a
    LATERAL page of its rows, so an index on (parent, sort column, id) reads only the page
    however many rows a parent has (a window over all of them would read and sort them all)."""
    parents = (
        func.unnest(keys_parameter(parent_column, parent_keys))
        .table_valued("key", with_ordinality="position")
        .render_derived("parents")
    )
    conditions = [parent_column == parents.c.key, *where]
    page = page_query(table, conditions, ordering, request).lateral("page")
    return (
        select(page)
        .select_from(parents)
        .join(page, true())
        .order_by(parents.c.position, *ordering.order_by(request.backward, within=page))
    )


def count_per_parent_query(
    parent_column: ColumnElement[Any],
    parent_keys: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    return (
        select(parent_column, func.count())
        .where(matches_any(parent_column, parent_keys), *where)
        .group_by(parent_column)
    )


def matches_any(column: ColumnElement[Any], keys: Sequence[Any]) -> ColumnElement[bool]:
    """`column = ANY($1)`: one array parameter, so the text is the same for any batch size."""
    return column == any_(keys_parameter(column, keys))


def keys_parameter(column: ColumnElement[Any], keys: Sequence[Any]) -> BindParameter[Any]:
    """The keys as one array parameter of `column`'s type."""
    return bindparam("keys", list(keys), type_=ARRAY(column.type))
