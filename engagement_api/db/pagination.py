"""Keyset (cursor) pages of one or many parents in ONE statement.

Every parent's page is a LATERAL sub-select ordered by the connection's sort key and
limited to the page size plus one (to know whether more rows follow), so a batch of
parents costs one statement and each parent's page one index range scan, at any depth
of a long thread. The total count and the "is there anything before the cursor" probe
join in as further LATERAL sub-selects, only when asked for.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    FromClause,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import InstrumentedAttribute

SortableColumn = ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column or expression a connection can sort and filter on."""

PARENT = "_parent"
ROW_NUMBER = "_n"
WANTED = "_wanted"
PARENT_ROW = "parent"
"""The name under which a page statement's parent rows come along (`ParentRows`)."""
TOTAL = "_total"
OTHER = "_other"
SORT_KEY = "_k{}"


class Window(NamedTuple):
    """Which slice of an ordered set: `limit` rows after/before the cursors, in a direction.
    A tuple: it is part of every page loader's key, hashed in C (a dashboard hashes about
    1,000 of them)."""

    limit: int
    backward: bool = False
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    with_total: bool = False


@dataclass(frozen=True, slots=True)
class SortKey:
    """One part of a connection's sort key: the column a cursor holds and, for a nullable
    column, the value its NULL sorts as (`null_as`). Rows and cursors are compared on
    `coalesce(column, null_as)`, so a row comparison never meets a NULL, while the row's
    own value, NULL included, is what its cursor holds."""

    column: SortableColumn
    null_as: ColumnElement[Any] | None = None

    def __post_init__(self) -> None:
        column = getattr(self.column, "expression", self.column)
        if isinstance(column, Column) and column.nullable and self.null_as is None:
            raise ValueError(f"nullable sort column {column} needs a `null_as` value")

    @property
    def nullable(self) -> bool:
        return self.null_as is not None

    @property
    def expression(self) -> ColumnElement[Any]:
        """What rows are ordered and compared on."""
        if self.null_as is None:
            return self.column  # type: ignore[return-value]
        return func.coalesce(self.column, self.null_as)

    def bound(self, name: str) -> ColumnElement[Any]:
        """The cursor's value of this part, bound as `name`, as it compares with rows."""
        value = bindparam(name, type_=self.column.type)
        return value if self.null_as is None else func.coalesce(value, self.null_as)


@dataclass(frozen=True, slots=True)
class Ordering:
    """The sort key of a connection, declared once: columns ending in a unique one, one
    direction. The page statements and the cursor codec are both derived from it."""

    keys: tuple[SortKey, ...]
    descending: bool = False

    @classmethod
    def of(cls, *keys: SortableColumn | SortKey, descending: bool = False) -> "Ordering":
        parts = tuple(key if isinstance(key, SortKey) else SortKey(key) for key in keys)
        return cls(parts, descending)

    @property
    def expressions(self) -> tuple[ColumnElement[Any], ...]:
        return tuple(key.expression for key in self.keys)


@dataclass(frozen=True, slots=True)
class Join:
    """A many-to-one row each page row carries along (a message's sender), so that the
    relation resolves without a statement of its own. Its columns come labeled
    `<name>__<column>` (those named in `columns`), all NULL where no row meets `condition`
    (its visibility)."""

    name: str
    table: Table
    foreign_key: str
    condition: ColumnElement[bool]
    columns: tuple[str, ...]

    def label(self, column: str) -> str:
        return self.label_of(self.name, column)

    @staticmethod
    def label_of(name: str, column: str) -> str:
        return f"{name}__{column}"


@dataclass(frozen=True, slots=True)
class ParentRows:
    """The parents themselves, read by the page statement that reads their pages: their
    columns come labeled `parent__<column>`, and a parent that does not exist or that no
    row meets `condition` (its visibility) for has no row at all (and so no page)."""

    table: Table
    condition: ColumnElement[bool]
    columns: tuple[str, ...]


@dataclass(slots=True)
class PageRows:
    """One parent's page as fetched: up to limit+1 rows in connection order."""

    rows: list[Row[Any]] = field(default_factory=list)
    total: int = 0
    has_other_side: bool = False


PARENT_IDS = "parent_ids"
AFTER = "after_{}"
BEFORE = "before_{}"


def _cursor_values(ordering: Ordering, name: str) -> ColumnElement[Any]:
    """The cursor's sort key as bound parameters `name.format(i)` (see `page_parameters`)."""
    return tuple_(*(key.bound(name.format(i)) for i, key in enumerate(ordering.keys)))


def _follows(ordering: Ordering, name: str) -> ColumnElement[bool]:
    """Rows strictly after the cursor bound as `name` in connection order."""
    keys, values = tuple_(*ordering.expressions), _cursor_values(ordering, name)
    return keys < values if ordering.descending else keys > values


def _precedes(ordering: Ordering, name: str) -> ColumnElement[bool]:
    """Rows strictly before the cursor bound as `name` in connection order."""
    keys, values = tuple_(*ordering.expressions), _cursor_values(ordering, name)
    return keys > values if ordering.descending else keys < values


def sort_key_names(table: Table, ordering: Ordering) -> tuple[str, ...]:
    """Where each part of the sort key is in a page row: a column of the page's table is read
    where the row already has it; any other expression is selected as `_k<i>`."""
    return tuple(
        _own_column(table, key.column) or SORT_KEY.format(i) for i, key in enumerate(ordering.keys)
    )


def _own_column(table: Table, key: SortableColumn) -> str | None:
    column = getattr(key, "expression", key)  # an ORM attribute's column
    return column.name if isinstance(column, Column) and column.table is table else None


def _order_by(ordering: Ordering, backward: bool) -> list[ColumnElement[Any]]:
    descending = ordering.descending != backward
    return [key.desc() if descending else key.asc() for key in ordering.expressions]


def probed_by_id(
    table: Table,
    ids: BindParameter[Any],
    condition: ColumnElement[bool],
    columns: Sequence[ColumnElement[Any]],
) -> Select[Any]:
    """`columns` of the rows of `table` whose id is in the array `ids` and that meet
    `condition`, each found by one primary-key probe. With `id = ANY(ids)` a generic plan,
    which cannot see how many ids the array holds, may prefer reading the whole
    organization through its `org_id` index (every row of a large tenant for one id); a
    LATERAL lookup per id, kept one by LIMIT 1, is a primary-key probe whatever the
    tenant's size."""
    wanted = func.unnest(ids).table_valued(WANTED).render_derived(name="wanted")
    found = (
        select(*columns).where(table.c.id == wanted.c[WANTED], condition).limit(1).lateral("found")
    )
    return select(*found.c).select_from(wanted).join(found, true())


def page_statement(
    table: Table,
    parent_column: ColumnElement[Any] | None,
    conditions: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    window: Window,
    joins: Sequence[Join] = (),
    parent_rows: ParentRows | None = None,
    columns: Sequence[str] | None = None,
) -> Select[Any]:
    """The pages of the parents bound as `parent_ids` (or of the whole set when
    `parent_column` is None), with the parents' own rows when `parent_rows` is given. The
    statement depends on the window's shape only (limit, direction, which cursors, whether
    to count): parents and cursor keys are bound parameters (`page_parameters`), so one
    statement object serves every request of that shape and SQLAlchemy builds and compiles
    it once. Page rows hold `columns` of `table` (all by default), then the sort key's parts
    that are not among them."""
    read = [table.c[name] for name in columns] if columns is not None else list(table.c)
    parents: FromClause
    ids = bindparam(PARENT_IDS, type_=ARRAY(UUID(as_uuid=True)))
    if parent_column is None:
        parents = select(null().label(PARENT)).subquery("k")
    elif parent_rows is not None:
        parent_table = parent_rows.table
        labeled = [
            parent_table.c[name].label(Join.label_of(PARENT_ROW, name))
            for name in parent_rows.columns
        ]
        parents = probed_by_id(
            parent_table, ids, parent_rows.condition, [parent_table.c.id.label(PARENT), *labeled]
        ).subquery("k")
    else:
        parents = func.unnest(ids).table_valued(PARENT).render_derived(name="k")

    def scoped(*extra: ColumnElement[bool]) -> ColumnElement[bool]:
        own = [parent_column == parents.c[PARENT]] if parent_column is not None else []
        return and_(true(), *own, *conditions, *extra)

    bounds = []
    if window.after is not None:
        bounds.append(_follows(ordering, AFTER))
    if window.before is not None:
        bounds.append(_precedes(ordering, BEFORE))
    names = sort_key_names(table, ordering)
    read_names = {column.name for column in read}
    sort_labels = [
        key.column.label(name)
        for key, name in zip(ordering.keys, names, strict=True)
        if name not in read_names
    ]
    order = _order_by(ordering, window.backward)
    if parent_rows is not None:  # numbered, so that only the first row carries its parent
        sort_labels.append(func.row_number().over(order_by=order).label(ROW_NUMBER))
    page = (
        select(*read, *sort_labels)
        .where(scoped(*bounds))
        .order_by(*order)
        .limit(window.limit + 1)
        .lateral("p")
    )
    page_columns = [column for column in page.c if column.name != ROW_NUMBER]
    statement = select(*_parent_columns(parents, page), *page_columns)
    statement = statement.select_from(parents).outerjoin(page, true())
    for join in joins:
        # A LATERAL lookup per page row, kept a nested loop by primary key (LIMIT 1 stops
        # the planner from flattening it into a hash join, which may reorder the rows).
        joined = [join.table.c[name].label(join.label(name)) for name in join.columns]
        own = join.table.c.id == page.c[join.foreign_key]
        lookup = select(*joined).where(own, join.condition).limit(1)
        related = lookup.lateral(f"j_{join.name}")
        statement = statement.add_columns(*related.c).outerjoin(related, true())
    if window.with_total:
        total = select(func.count().label(TOTAL)).select_from(table).where(scoped()).lateral("c")
        statement = statement.add_columns(total.c[TOTAL]).outerjoin(total, true())
    cursor = window.before if window.backward else window.after
    if cursor is not None:
        beyond = _precedes(ordering, BEFORE) if window.backward else _follows(ordering, AFTER)
        probe = select(literal(True).label(OTHER)).select_from(table)
        other = probe.where(scoped(~beyond)).limit(1).lateral("o")
        statement = statement.add_columns(other.c[OTHER]).outerjoin(other, true())
    return statement


def _parent_columns(parents: FromClause, page: FromClause) -> list[ColumnElement[Any]]:
    """The parents' columns of a page statement: the parent key on every row, a parent's
    own row (`ParentRows`) on its first row only (NULL on the others: each value costs the
    driver a decoding, and a timestamp's is not cheap)."""
    if ROW_NUMBER not in page.c:
        return list(parents.c)
    first = or_(page.c[ROW_NUMBER] == 1, page.c[ROW_NUMBER].is_(None))
    return [parents.c[PARENT]] + [
        case((first, column), else_=null()).label(column.name)
        for column in parents.c
        if column.name != PARENT
    ]


def page_parameters(parent_ids: Sequence[uuid.UUID], window: Window) -> dict[str, Any]:
    """The values `page_statement`'s parameters take for these parents and this window."""
    values: dict[str, Any] = {PARENT_IDS: list(parent_ids)}
    for name, cursor in ((AFTER, window.after), (BEFORE, window.before)):
        for i, value in enumerate(cursor or ()):
            values[name.format(i)] = value
    return values


def split_pages(
    rows: Sequence[Row[Any]], parent_ids: Sequence[uuid.UUID | None], window: Window
) -> list[PageRows]:
    """The statement's rows grouped per parent, in the order of `parent_ids`."""
    pages: dict[uuid.UUID | None, PageRows] = defaultdict(PageRows)
    if not rows:
        return [pages[parent_id] for parent_id in parent_ids]
    # Positions, not names: a name lookup builds a mapping object per row.
    fields = rows[0]._fields
    parent, row_id = fields.index(PARENT), fields.index("id")
    total = fields.index(TOTAL) if window.with_total else None
    other = fields.index(OTHER) if OTHER in fields else None
    for row in rows:
        page = pages[row[parent]]
        if total is not None:
            page.total = int(row[total] or 0)
        if other is not None and row[other]:
            page.has_other_side = True
        if row[row_id] is not None:
            page.rows.append(row)
    return [pages[parent_id] for parent_id in parent_ids]


def sort_key_reader(
    fields: Sequence[str], names: Sequence[str]
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """What reads a row's sort key (its cursor's content) by position (`sort_key_names`),
    for rows with `fields`."""
    positions = [fields.index(name) for name in names]
    if len(positions) == 1:  # itemgetter of one position returns the value, not a tuple
        (position,) = positions
        return lambda row: (row[position],)
    return itemgetter(*positions)
