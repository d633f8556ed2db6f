"""Reads built once per shape, compiled once per process and run on the driver directly.

The read graph's statements are templates (`queries.by_ids_query`, `ConnectionSpec.page`):
one statement object per shape, the viewer, parents, filters and cursors bound as
parameters. Through SQLAlchemy's execution layer each run of one costs about 120 us of
client CPU (execution context, cache-key lookup, result metadata, greenlet switches), three
times what asyncpg itself spends. A `PreparedRead` holds what SQLAlchemy would work out on
every run: the SQL text (which asyncpg prepares once per connection), the parameters' order,
their bind processors and literal values, the result columns' processors, and a row class
that reads like SQLAlchemy's `Row` (by attribute, by position, `_fields`, `_mapping`). All of
it comes from SQLAlchemy's public compile and type API (`statement.compile(dialect=...)`,
`positiontup`, `binds`, `TypeEngine.dialect_impl(...).bind_processor/result_processor`).
Writes keep going through SQLAlchemy.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

MAX_PREPARED = 4096
"""Compiled reads kept per process (a template per shape; more means statements are being
built per request, which still works, just without the saving)."""

Processor = Callable[[Any], Any]


class PreparedRead:
    """One SELECT template, compiled for the driver's positional parameters."""

    __slots__ = ("_bind_processors", "_defaults", "_names", "_result_processors", "row", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        """Args:
        statement: a SELECT whose values are all bound parameters (no expanding `IN`).
        dialect: the engine's dialect (asyncpg), which decides the SQL text and the types.
        """
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError("a prepared read needs the driver's positional parameters")
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared read cannot expand a list into IN (...): use ANY")
        self.sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup)
        self._defaults = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        self._bind_processors: Mapping[str, Processor] = {
            name: processor
            for name, bind in compiled.binds.items()
            if callable(processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        columns = list(statement.selected_columns)
        fields = tuple(statement.selected_columns.keys())
        self._result_processors = tuple(
            (position, processor)
            for position, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        )
        self.row = row_class(fields)

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

    def rows(self, records: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's records as rows, each column processed as SQLAlchemy would."""
        make = self.row
        if not self._result_processors:
            return [make(record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for position, processor in self._result_processors:
                values[position] = processor(values[position])
            rows.append(make(values))
        return rows


def row_class(fields: tuple[str, ...]) -> Callable[[Iterable[Any]], tuple[Any, ...]]:
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


_prepared: dict[int, tuple[Select[Any], PreparedRead]] = {}


def prepared(statement: Select[Any], dialect: Dialect) -> PreparedRead:
    """`statement`'s compiled read, made on its first run (the cache holds the statement,
    so its id is never reused while the entry lives)."""
    entry = _prepared.get(id(statement))
    if entry is not None and entry[0] is statement:
        return entry[1]
    if len(_prepared) >= MAX_PREPARED:
        _prepared.clear()
    read = PreparedRead(statement, dialect)
    _prepared[id(statement)] = (statement, read)
    return read
