"""Statements compiled by SQLAlchemy and run on the driver directly.

The read graph's statements are templates (`queries.by_ids_query`, `ConnectionSpec.page`):
one statement object per shape, the viewer, parents, filters and cursors bound as
parameters. Through SQLAlchemy's execution layer each run of one costs about 120 us of
client CPU (execution context, cache-key lookup, result metadata, greenlet switches), three
times what asyncpg itself spends. A `PreparedStatement` holds what SQLAlchemy would work out on
every run: the SQL text (which asyncpg prepares once per connection), the parameters' order,
their bind processors and literal values, the result columns' processors, and a row class
that reads like SQLAlchemy's `Row` (by attribute, by position, `_fields`, `_mapping`). All of
it comes from SQLAlchemy's public compile and type API (`statement.compile(dialect=...)`,
`positiontup`, `binds`, `effective_returning`, `TypeEngine.dialect_impl(...).bind_processor/
result_processor`).

Writes (INSERT/UPDATE/DELETE, with or without RETURNING) and `text()` statements are
compiled the same way, so every statement of a request runs on the one driver connection
that owns its transaction (`session.py`). A write is usually built per call (`.values(...)`
with the call's values inline): it is compiled for that run only (`PreparedStatement`
directly); only a statement object that is itself a reused template goes through the
cache (`prepared`).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import Executable, SelectBase, TextClause, UpdateBase
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound

MAX_PREPARED = 4096
"""Compiled templates kept per process (a template per shape; more means statements are being
built per request, which still works, just without the saving)."""

Processor = Callable[[Any], Any]


class Row(Protocol):
    """A row as `PreparedStatement.rows` makes it, read like SQLAlchemy's `Row`: by
    position, by column name as an attribute, `_fields` (and `_mapping`, untyped here)."""

    @property
    def _fields(self) -> tuple[str, ...]: ...

    def __getattr__(self, name: str) -> Any: ...

    def __getitem__(self, position: int) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


RowClass = Callable[[Iterable[Any]], Row]


class Result:
    """The rows one statement returned, taken the ways the mutations take them."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def all(self) -> list[Row]:
        return self._rows

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        """The one row; SQLAlchemy's `NoResultFound`/`MultipleResultsFound` otherwise."""
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]


class PreparedStatement:
    """One statement (a SELECT template, a write, a `text()`), compiled for the driver's
    positional parameters."""

    __slots__ = ("_bind_processors", "_defaults", "_names", "_result_processors", "row", "sql")

    def __init__(self, statement: Executable, dialect: Dialect, *, once: bool = False) -> None:
        """Args:
        statement: a SELECT, INSERT, UPDATE, DELETE or `text()` whose values are bound
            parameters or inline values (no default computed in Python).
        dialect: the engine's dialect (asyncpg), which decides the SQL text and the types.
        once: compiled for one run with the values the statement holds, so an expanding
            `IN (...)` is rendered for its list (SQLAlchemy's public
            `construct_expanded_state`); a template (run again with other values) refuses
            one: its lists are arrays, `= ANY(...)`.
        """
        if not isinstance(statement, (SelectBase, UpdateBase, TextClause)):
            raise ValueError(f"cannot prepare a {type(statement).__name__}")
        compiled: Any = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError("a prepared statement needs the driver's positional parameters")
        expanding = any(bind.expanding for bind in compiled.binds.values())
        if expanding and not once:
            raise ValueError("a prepared statement cannot expand a list into IN (...): use ANY")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Such a value is computed by SQLAlchemy's execution context, which is not run.
            raise ValueError("a prepared statement cannot use a column default computed in Python")
        processors: dict[str, Processor] = {
            name: processor
            for name, bind in compiled.binds.items()
            if callable(processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        if expanding:
            expanded = compiled.construct_expanded_state()
            self.sql: str = expanded.statement
            self._names: tuple[str, ...] = tuple(expanded.positiontup)
            self._defaults: dict[str, Any] = dict(expanded.parameters)
            processors.update(expanded.processors)
        else:
            self.sql = compiled.string
            self._names = tuple(compiled.positiontup)
            self._defaults = {
                name: bind.effective_value
                for name, bind in compiled.binds.items()
                if not bind.required
            }
        self._bind_processors: Mapping[str, Processor] = processors
        columns = _result_columns(statement, compiled)
        self._result_processors = tuple(
            (position, processor)
            for position, (_, type_) in enumerate(columns or ())
            if (processor := type_.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        )
        self.row: RowClass | None = (
            None if columns is None else row_class(tuple(name for name, _ in columns))
        )

    def arguments(self, parameters: Mapping[str, Any] | None) -> list[Any]:
        """The driver's positional arguments for these parameter values."""
        values = {**self._defaults, **(parameters or {})}
        processors = self._bind_processors
        arguments = []
        for name in self._names:
            value = values[name]
            processor = processors.get(name)
            arguments.append(value if processor is None else processor(value))
        return arguments

    def rows(self, records: Sequence[Sequence[Any]]) -> list[Row]:
        """The driver's records as rows, each column processed as SQLAlchemy would."""
        make = self.row
        if make is None:  # `text()`: the columns are known once the statement ran
            if not records:
                return []
            make = row_class(tuple(records[0].keys()))  # type: ignore[attr-defined]
        if not self._result_processors:
            return [make(record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for position, processor in self._result_processors:
                values[position] = processor(values[position])
            rows.append(make(values))
        return rows


def _result_columns(
    statement: SelectBase | UpdateBase | TextClause, compiled: Any
) -> list[tuple[str, Any]] | None:
    """(name, type) of each column the statement's SQL returns, in order; None for a
    `text()` statement, whose columns only its rows tell."""
    if isinstance(statement, SelectBase):
        selected = statement.selected_columns
        return list(zip(selected.keys(), (column.type for column in selected), strict=True))
    if isinstance(statement, UpdateBase):
        # RETURNING as compiled: the explicit one, or a bare INSERT's new primary key.
        return [(column.key, column.type) for column in compiled.effective_returning or ()]
    return None


def row_class(fields: tuple[str, ...]) -> RowClass:
    """A tuple class read like SQLAlchemy's `Row`: by position, by attribute (each column
    name that is an identifier and not a tuple method), `_fields` and `_mapping`."""
    namespace: dict[str, Any] = {
        "__slots__": (),
        "_fields": fields,
        "_mapping": property(lambda row: dict(zip(fields, row, strict=True))),
    }
    for position, name in enumerate(fields):
        if name.isidentifier() and not hasattr(tuple, name):
            namespace[name] = property(itemgetter(position))
    return type("PreparedRow", (tuple,), namespace)


_prepared: dict[int, tuple[Executable, PreparedStatement]] = {}


def prepared(statement: Executable, dialect: Dialect) -> PreparedStatement:
    """`statement`'s compiled form, made on its first run (the cache holds the statement,
    so its id is never reused while the entry lives). For templates only: a statement
    built per call would fill the cache with statements that never run again."""
    entry = _prepared.get(id(statement))
    if entry is not None and entry[0] is statement:
        return entry[1]
    if len(_prepared) >= MAX_PREPARED:
        _prepared.clear()
    compiled = PreparedStatement(statement, dialect)
    _prepared[id(statement)] = (statement, compiled)
    return compiled
