"""Runs an operation plan a level at a time.

For each level (one selection plan, all the rows that reach it): every resolver field is
called for every row before anything is awaited, so the DataLoaders they call batch the
whole level into one read; then the object fields' values of all rows become the next
levels, started in the same round when nothing was awaited for them, else in the next
(`Execution.complete`); once all are done, each row's result dict is built in one pass
over the plan's fields. Errors are located, nulled to the nearest nullable position and
reported as graphql-core reports them (`errors.ErrorLog`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from itertools import accumulate, chain, repeat
from operator import attrgetter, is_
from types import NoneType
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    get_argument_values,
    located_error,
)
from graphql.pyutils import Path, inspect, is_iterable

from engagement_api.compiler.answer_size import level_bytes, level_size
from engagement_api.compiler.errors import ErrorLog, Nulled, Order
from engagement_api.compiler.levels import Level
from engagement_api.compiler.plan import READ, TYPENAME, FieldPlan, OperationPlan, SelectionPlan
from engagement_api.compiler.rows import row_builder
from engagement_api.compiler.stock import CAST_ATTRIBUTE, cast_type

BuildInfo = Callable[[Any, list[Any], Any, Path], GraphQLResolveInfo[Any]]

WHOLE_COLUMN = -1
"""The row of a `Waiting` entry whose awaitable gives the values of every row."""

Waiting = tuple[list[Any], int, Awaitable[Any]]
"""What a resolver returned to await: the column its value goes in, the row (or
`WHOLE_COLUMN`) and the awaitable."""

Shape = None | int | tuple[int, int] | list[Any] | slice | Exception
"""A row's value of an object field: null, the index of its object in the child level (with
the variant's, for an interface), a list of such entries (one per item) or the slice of the
child level that holds its items in order, or the error that replaced it."""


class Execution:
    """One execution of a plan, with the executor's request state (variables, context)."""

    def __init__(
        self,
        plan: OperationPlan,
        root_value: Any,
        variable_values: Any,
        build_info: BuildInfo,
        is_awaitable: Callable[[Any], bool],
        hide_suggestions: bool,
        type_resolver: Callable[..., Any],
        schema: GraphQLSchema,
        context: Any = None,
    ) -> None:
        self.type_resolver = type_resolver
        self.context = context
        self.answer_bytes: int | None = 0 if getattr(context, "answer_size_wanted", False) else None
        """At most the bytes of the answer's data as JSON, None when unknown or unwanted."""
        self.schema = schema
        self.plan = plan
        self.root_value = root_value
        self.variable_values = variable_values
        self.build_info = build_info
        self.is_awaitable = is_awaitable
        self.hide_suggestions = hide_suggestions
        self.log = ErrorLog()
        self._arguments: dict[int, dict[str, Any] | Exception] = {}

    async def run(self) -> ExecutionResult:
        root = Level(self.plan.root, [self.root_value])
        (data,) = await self.complete(root)
        if isinstance(data, Nulled):
            self.log.nulled(data.errors, ())
            data = None
        errors = self.log.reported()
        if self.context is not None and self.answer_bytes is not None:
            self.context.answer_bytes_at_most = self.answer_bytes
        return ExecutionResult(data, errors or None)

    async def run_rows(self, roots: list[Any]) -> list[Any] | None:
        """The data of many root values at once (a subscription's events, one root row
        each): row i's result dict is that of an execution with `roots[i]` as its root
        value. None when any row has an error: errors are not told apart by row, so each
        event must then execute on its own, for its own errors."""
        data = await self.complete(Level(self.plan.root, roots))
        if self.log.entries or any(type(row) is Nulled for row in data):
            return None
        return data

    async def complete(self, level: Level) -> list[Any]:
        """Each row's result dict, or `Nulled` where a non-null field could not complete.

        The levels run in rounds: a round calls the resolvers of every level it reaches
        before anything is awaited, descending at once through the object fields that have
        nothing to await; then all it left waiting is awaited together, and the next round
        starts below the fields that waited. A DataLoader therefore reads in one batch the
        keys of every level the same number of awaits below the root, whatever the event
        loop's timing (graphql-core's tasks sometimes miss it), and no level runs as a
        task."""
        waited: list[_Called] = []
        top = self._start(level, waited)
        while waited:
            this_round, waited = waited, []
            await _settle([item for called in this_round for item in called.waiting])
            for called in this_round:
                self._descend(called, called.later, waited)
        return self._built(top)

    def _start(self, level: Level, waited: list["_Called"]) -> "_Called":
        """Calls the level's resolvers and starts the levels below the object fields that
        have nothing to await; a level with awaitables is left in `waited` with the rest."""
        called = _Called(level)
        if not level.sources:
            return called
        called.columns = self._call_all(level, called.waiting)
        objects = level.plan.objects
        if not called.waiting:
            self._descend(called, objects, waited)
            return called
        awaited = level.awaited
        self._descend(called, [field for field in objects if field.index not in awaited], waited)
        called.later = [field for field in objects if field.index in awaited]
        waited.append(called)
        return called

    def _descend(self, called: "_Called", fields: list[FieldPlan], waited: list["_Called"]) -> None:
        """Places the values of the level's object `fields` in the levels below and starts
        them."""
        level = called.level
        for field in fields:
            shape, levels = self._child_levels(level, field, called.columns.get(field.index))
            called.shapes[field.index] = shape
            called.below[field.index] = [self._start(child, waited) for child in levels]

    def _built(self, called: "_Called") -> list[Any]:
        """The level's result dicts, once every level below it is built."""
        level = called.level
        if not level.sources:
            return []
        completed = {
            index: [self._built(child) for child in children]
            for index, children in called.below.items()
        }
        rows = self._build(level, called.columns, called.shapes, completed)
        if self.answer_bytes is not None:
            self._count(level.plan, rows)
        return rows

    def _call_all(self, level: Level, waiting: list[Waiting]) -> dict[int, list[Any]]:
        """The values of the level's resolver fields, by field index: awaitables are added
        to `waiting`, and replaced in their column once it settles."""
        columns: dict[int, list[Any]] = {}
        for field in level.plan.calls:
            if field.level is None:
                columns[field.index] = self._call(level, field, waiting)
            else:
                columns[field.index] = self._resolve_level(level, field, waiting)
        return columns

    def _count(self, plan: SelectionPlan, built: list[Any]) -> None:
        size = plan.size
        if size is None:
            size = plan.size = level_size(plan) or False
        counted = level_bytes(size, built) if size else None
        if counted is None or self.answer_bytes is None:
            self.answer_bytes = None
        else:
            self.answer_bytes += counted

    def _arguments_of(self, field: FieldPlan) -> dict[str, Any] | Exception:
        arguments = self._arguments.get(id(field))
        if arguments is None:
            try:
                arguments = (
                    get_argument_values(
                        field.definition,  # type: ignore[arg-type]
                        field.nodes[0],
                        self.variable_values,
                        None,
                        self.hide_suggestions,
                    )
                    if field.has_arguments
                    else {}
                )
            except Exception as error:
                arguments = error
            self._arguments[id(field)] = arguments
        return arguments

    def _call(
        self,
        level: Level,
        field: FieldPlan,
        waiting: list[Waiting],
    ) -> list[Any]:
        """The field's resolver called for each row: values, awaitables (added to `waiting`)
        or the exceptions raised."""
        arguments = self._arguments_of(field)
        sources = level.sources
        if isinstance(arguments, Exception):
            return [arguments] * len(sources)
        column: list[Any] = [None] * len(sources)
        resolve: Callable[..., Any] = field.resolve  # type: ignore[assignment]
        build_info = self.build_info
        is_awaitable = self.is_awaitable
        definition, nodes, parent_type = field.definition, field.nodes, field.parent_type
        key, type_name = field.key, parent_type.name
        awaited: set[int] = set()
        for row, (source, path) in enumerate(zip(sources, level.paths(), strict=True)):
            info = build_info(definition, nodes, parent_type, Path(path, key, type_name))
            try:
                value = resolve(source, info, **arguments)
            except Exception as error:
                column[row] = error
                continue
            if is_awaitable(value):
                waiting.append((column, row, value))
                awaited.add(row)
            column[row] = value
        if awaited:
            level.awaited[field.index] = awaited
        return column

    def _resolve_level(
        self,
        level: Level,
        field: FieldPlan,
        waiting: list[Waiting],
    ) -> list[Any]:
        """The field's level resolver called once for all rows (`batch.py`): its awaitable
        fills the whole column (added to `waiting` as `WHOLE_COLUMN`)."""
        arguments = self._arguments_of(field)
        count = len(level.sources)
        if isinstance(arguments, Exception):
            return [arguments] * count
        names = field.python_names
        python_arguments = {names[name]: value for name, value in arguments.items()}
        path = Path(level.one_path(0), field.key, field.parent_type.name)
        info = self.build_info(field.definition, field.nodes, field.parent_type, path)
        level.awaited[field.index] = None  # a level's values count as awaited
        try:
            values = field.level.resolve_level(info, level.sources, python_arguments)  # type: ignore[union-attr]
        except Exception as error:
            return [error] * count
        column: list[Any] = [None] * count
        waiting.append((column, WHOLE_COLUMN, values))
        return column

    def _child_levels(
        self, level: Level, field: FieldPlan, column: list[Any] | None
    ) -> tuple[list[Shape], list[Level]]:
        """The objects of `field` over all rows, as the next levels (one per variant), and
        where each row's value went (`Shape`)."""
        variants = field.variants
        abstract = field.interface is not None
        sources: list[list[Any]] = [[] for _ in variants]
        parent_rows: list[list[int]] = [[] for _ in variants]
        items: list[list[int | None]] | None = [[] for _ in variants] if field.is_list else None
        checks = [_type_check(variant) for variant in variants]

        def place(value: Any, row: int, index: int | None) -> Any:
            slot = 0
            if abstract:
                found = self._slot(level, row, field, value, index)
                if isinstance(found, Exception):
                    return found
                slot = found
            if not checks[slot](value, self, level, row, field):
                return _wrong_type(variants[slot], value, field)
            placed = sources[slot]
            position = len(placed)
            placed.append(value)
            parent_rows[slot].append(row)
            if items is not None:
                items[slot].append(index)
            return (slot, position) if abstract else position

        shapes: list[Shape] = []
        attribute = field.attribute
        # The common case inline: one variant, values of classes its check already passed.
        checked = variants[0].checked_classes if not abstract else set()
        unchecked = not abstract and variants[0].object_type.is_type_of is None
        if not abstract:
            whole = _whole_level(level.sources, field, column, checked, unchecked)
            if whole is not None:
                shapes, placed, rows_of, indexes = whole
                return shapes, [Level(variants[0], placed, level, field, rows_of, indexes)]
        placed, rows_of = sources[0], parent_rows[0]
        indexes = items[0] if items is not None else None
        for row, source in enumerate(level.sources):
            if column is None:
                try:
                    value = getattr(source, attribute)
                except Exception as error:
                    shapes.append(error)
                    continue
            else:
                value = column[row]
            if value is None or isinstance(value, Exception):
                shapes.append(value)
            elif indexes is None:
                if unchecked or (
                    value.__class__ in checked and getattr(value, CAST_ATTRIBUTE, None) is None
                ):
                    shapes.append(len(placed))
                    placed.append(value)
                    rows_of.append(row)
                else:
                    shapes.append(place(value, row, None))
            elif type(value) is not list and not is_iterable(value):
                shapes.append(
                    GraphQLError(
                        f"Expected Iterable, but did not find one for field '{field.description}'."
                    )
                )
            elif type(value) is list and (
                (unchecked and not any(map(is_, value, repeat(None))))
                or (
                    set(map(type, value)) <= checked
                    and not any(map(getattr, value, repeat(CAST_ATTRIBUTE), repeat(None)))
                )
            ):
                start, count = len(placed), len(value)
                placed.extend(value)
                rows_of.extend(repeat(row, count))
                indexes.extend(range(count))
                shapes.append(slice(start, start + count))
            else:
                shapes.append(
                    [
                        None if item is None else place(item, row, index)
                        for index, item in enumerate(value)
                    ]
                )
        levels = [
            Level(
                variant,
                sources[slot],
                level,
                field,
                parent_rows[slot],
                None if items is None else items[slot],
            )
            for slot, variant in enumerate(variants)
        ]
        return shapes, levels

    def _slot(
        self, level: Level, row: int, field: FieldPlan, value: Any, index: int | None
    ) -> int | Exception:
        """The variant of an interface field's value: its runtime type, as graphql-core
        resolves and checks it."""
        interface: GraphQLInterfaceType = field.interface  # type: ignore[assignment]
        path = Path(level.path(row), field.key, field.parent_type.name)
        if index is not None:
            path = Path(path, index, None)
        info = self.build_info(field.definition, field.nodes, field.parent_type, path)
        resolve_type = interface.resolve_type or self.type_resolver
        try:
            name = resolve_type(value, info, interface)
        except Exception as error:
            return error
        if self.is_awaitable(name):
            close = getattr(name, "close", None)
            if close is not None:
                close()
            return TypeError(f"The type of a '{interface}' value resolved asynchronously.")
        slot = field.slots.get(name) if isinstance(name, str) else None
        if slot is not None:
            return slot
        return _invalid_runtime_type(self.schema, interface, field, value, name)

    def _build(
        self,
        level: Level,
        columns: dict[int, list[Any]],
        shapes: dict[int, list[Shape]],
        completed: dict[int, list[list[Any]]],
    ) -> list[Any]:
        """The level's result dicts: by the plan's generated builder when no child object
        was nulled, each row that builder finds unusual (and every row otherwise) field by
        field."""
        plan = level.plan
        builder = plan.rows
        if builder is None:
            builder = plan.rows = row_builder(plan) or False
        if builder and all(
            Nulled not in set(map(type, results))
            for field in plan.objects
            for results in completed[field.index]
        ):

            def slow(row: int) -> Any:
                return self._build_row(level, row, columns, shapes, completed)

            return builder(level.sources, columns, shapes, completed, slow)  # type: ignore[no-any-return]
        return [
            self._build_row(level, row, columns, shapes, completed)
            for row in range(len(level.sources))
        ]

    def _build_row(
        self,
        level: Level,
        row: int,
        columns: dict[int, list[Any]],
        shapes: dict[int, list[Shape]],
        completed: dict[int, list[list[Any]]],
    ) -> Any:
        """One row's result dict, field by field, or `Nulled`."""
        source = level.sources[row]
        result: dict[str, Any] = {}
        failed: list[tuple[Order, GraphQLError]] | None = None
        for field in level.plan.fields:
            key = field.key
            if field.how == TYPENAME:
                result[key] = field.typename
                continue
            if field.variants:
                value = self._object(
                    level, row, field, shapes[field.index][row], completed[field.index]
                )
            elif field.how == READ:
                try:
                    raw = getattr(source, field.attribute)
                except Exception as error:
                    raw = error
                value = self._leaf(level, row, field, raw)
            else:
                value = self._leaf(level, row, field, columns[field.index][row])
            if type(value) is Nulled:
                if failed is None:
                    failed = []
                failed.extend(value.errors)
                continue
            result[key] = value
        return result if failed is None else Nulled(failed)

    # Completion of one value. `Nulled` means a non-null field failed: the row is nulled.

    def _leaf(self, level: Level, row: int, field: FieldPlan, raw: Any) -> Any:
        if raw is None:
            return self._null(level, row, field)
        if isinstance(raw, Exception):
            return self._failed(level, row, field, raw)
        if not field.is_list:
            try:
                return _coerce(field, raw)
            except Exception as error:
                return self._failed(level, row, field, error)
        if type(raw) is not list and not is_iterable(raw):
            not_iterable = GraphQLError(
                f"Expected Iterable, but did not find one for field '{field.description}'."
            )
            return self._failed(level, row, field, not_iterable)
        values: list[Any] = []
        for index, item in enumerate(raw):
            if item is None:
                value: Any = None
                if field.item_non_null:
                    value = self._item_failed(level, row, field, index, _null_error(field))
            else:
                try:
                    value = _coerce(field, item)
                except Exception as error:
                    value = self._item_failed(level, row, field, index, error)
            if type(value) is Nulled:
                return self._list_nulled(level, row, field, value)
            values.append(value)
        return values

    def _object(
        self, level: Level, row: int, field: FieldPlan, shape: Shape, results: list[list[Any]]
    ) -> Any:
        if shape is None:
            return self._null(level, row, field)
        if isinstance(shape, Exception):
            return self._failed(level, row, field, shape)
        if type(shape) is int or type(shape) is tuple:
            value = _result(results, shape)
            if type(value) is Nulled:
                if field.non_null:
                    return value
                self.log.nulled(value.errors, _position(level, row, field))
                return None
            return value
        if type(shape) is slice:
            shape = list(range(shape.start, shape.stop))
        values: list[Any] = []
        for index, entry in enumerate(shape):  # type: ignore[arg-type]
            if entry is None:
                item: Any = None
                if field.item_non_null:
                    item = self._item_failed(level, row, field, index, _null_error(field))
            elif isinstance(entry, Exception):
                item = self._item_failed(level, row, field, index, entry)
            else:
                item = _result(results, entry)
                if type(item) is Nulled and not field.item_non_null:
                    self.log.nulled(item.errors, _position(level, row, field, index))
                    item = None
            if type(item) is Nulled:
                return self._list_nulled(level, row, field, item)
            values.append(item)
        return values

    def _null(self, level: Level, row: int, field: FieldPlan) -> Any:
        if field.non_null:
            return self._failed(level, row, field, _null_error(field))
        return None

    def _failed(self, level: Level, row: int, field: FieldPlan, raw: Exception) -> Any:
        """The field's value is an error: the row is nulled (non-null field), or the field."""
        path = Path(level.path(row), field.key, field.parent_type.name)
        error = located_error(raw, field.nodes, path.as_list())
        order = (*_arising(level, row, field), *level.order(row), field.index)
        if field.non_null:
            return Nulled([(order, error)])
        self.log.nulled([(order, error)], tuple(path.as_list()))
        return None

    def _item_failed(
        self, level: Level, row: int, field: FieldPlan, index: int, raw: Exception
    ) -> Any:
        """An item of the list is an error: the list is nulled (non-null items), or the item."""
        path = Path(Path(level.path(row), field.key, field.parent_type.name), index, None)
        error = located_error(raw, field.nodes, path.as_list())
        order = (*_arising(level, row, field), *level.order(row), field.index, index)
        if field.item_non_null:
            return Nulled([(order, error)])
        self.log.nulled([(order, error)], tuple(path.as_list()))
        return None

    def _list_nulled(self, level: Level, row: int, field: FieldPlan, nulled: Nulled) -> Any:
        if field.non_null:
            return nulled
        self.log.nulled(nulled.errors, _position(level, row, field))
        return None


async def _settle(waiting: list[Waiting]) -> None:
    """Awaits what the resolvers returned and puts each value (or the exception raised) in
    its place: a lone awaitable as it is, several at once (a level resolver's future
    without a task)."""
    if len(waiting) == 1:
        try:
            value = await waiting[0][2]
        except Exception as error:
            value = error
        _place(waiting[0], value)
    elif waiting:
        settled = await asyncio.gather(*(item[2] for item in waiting), return_exceptions=True)
        for item, value in zip(waiting, settled, strict=True):
            _place(item, value)


def _place(item: Waiting, value: Any) -> None:
    column, row, _ = item
    if isinstance(value, BaseException) and not isinstance(value, Exception):
        raise value
    if row != WHOLE_COLUMN:
        column[row] = value
    elif isinstance(value, Exception):
        column[:] = [value] * len(column)
    else:
        column[:] = value


class _Called:
    """A level whose resolvers were called: their values by field index (awaitables until
    `waiting` settles), the object fields left for the round's end, then where each object
    field's values went and the levels below (one per variant)."""

    __slots__ = ("below", "columns", "later", "level", "shapes", "waiting")

    def __init__(self, level: Level) -> None:
        self.level = level
        self.columns: dict[int, list[Any]] = {}
        self.waiting: list[Waiting] = []
        self.later: list[FieldPlan] = []
        self.shapes: dict[int, list[Shape]] = {}
        self.below: dict[int, list[_Called]] = {}


def _arising(level: Level, row: int, field: FieldPlan) -> tuple[int, int]:
    """When a field's error arises (`errors.Order`): after how many awaited values from the
    root, and whether the field's own value was one of them."""
    awaited = int(level.was_awaited(field, row))
    return level.async_depth(row) + awaited, awaited


def _whole_level(
    sources: list[Any],
    field: FieldPlan,
    column: list[Any] | None,
    checked: set[type],
    unchecked: bool,
) -> tuple[list[Shape], list[Any], list[int], list[int | None] | None] | None:
    """`_child_levels` of a one-variant field in a few passes over the level, for the usual
    level: every row's value is an object (for a list field, a list of objects) of a class
    the type's check has already passed, not a `strawberry.cast` value. None for any other
    level, which then goes row by row."""
    if column is None:
        try:
            column = list(map(attrgetter(field.attribute), sources))
        except Exception:
            return None
    if not field.is_list:
        values = column
    elif set(map(type, column)) <= {list}:
        values = list(chain.from_iterable(column))
    else:
        return None
    classes = set(map(type, values))
    if unchecked:
        if any(kind is NoneType or issubclass(kind, BaseException) for kind in classes):
            return None
    elif not classes <= checked:
        return None
    if any(map(getattr, values, repeat(CAST_ATTRIBUTE), repeat(None))):
        return None
    if not field.is_list:
        every = list(range(len(values)))
        return every, values, every, None  # type: ignore[return-value]
    counts = list(map(len, column))
    ends = list(accumulate(counts))
    shapes: list[Shape] = list(map(slice, [0, *ends[:-1]], ends))
    rows = list(chain.from_iterable(map(repeat, range(len(counts)), counts)))
    items: list[int | None] = list(chain.from_iterable(map(range, counts)))
    return shapes, values, rows, items


def _position(
    level: Level, row: int, field: FieldPlan, index: int | None = None
) -> tuple[Any, ...]:
    path = Path(level.path(row), field.key, field.parent_type.name)
    if index is not None:
        path = Path(path, index, None)
    return tuple(path.as_list())


def _result(results: list[list[Any]], entry: Any) -> Any:
    """The completed object an entry of a `Shape` points to."""
    if type(entry) is int:
        return results[0][entry]
    slot, position = entry
    return results[slot][position]


def _invalid_runtime_type(
    schema: GraphQLSchema, interface: GraphQLInterfaceType, field: FieldPlan, value: Any, name: Any
) -> GraphQLError:
    """graphql-core's error for a runtime type that is no possible type of the interface."""
    nodes = field.nodes
    where = f"for field '{field.description}'"
    if name is None:
        return GraphQLError(
            f"Abstract type '{interface}' must resolve to an Object type at runtime {where}."
            f" Either the '{interface}' type should provide a 'resolve_type' function or"
            " each possible type should provide an 'is_type_of' function.",
            nodes,
        )
    if not isinstance(name, str):
        return GraphQLError(
            f"Abstract type '{interface}' must resolve to an Object type at runtime {where}"
            f" with value {inspect(value)}, received '{inspect(name)}', which is not a"
            " valid Object type name.",
            nodes,
        )
    runtime_type = schema.get_type(name)
    if runtime_type is None:
        return GraphQLError(
            f"Abstract type '{interface}' was resolved to a type '{name}' that does not"
            " exist inside the schema.",
            nodes,
        )
    if not isinstance(runtime_type, GraphQLObjectType):
        return GraphQLError(
            f"Abstract type '{interface}' was resolved to a non-object type '{name}'.", nodes
        )
    return GraphQLError(
        f"Runtime Object type '{runtime_type}' is not a possible type for '{interface}'.",
        nodes,
    )


def _null_error(field: FieldPlan) -> TypeError:
    return TypeError(f"Cannot return null for non-nullable field {field.description}.")


def _coerce(field: FieldPlan, value: Any) -> Any:
    cls = value.__class__
    if cls is field.passthrough:
        return value
    if cls is field.enum_class:
        return field.enum_names[value]
    if field.is_int and cls is int and -2_147_483_648 <= value <= 2_147_483_647:
        return value
    return field.coerce(value)


def _wrong_type(plan: SelectionPlan, value: Any, field: FieldPlan) -> GraphQLError:
    return GraphQLError(
        f"Expected value of type '{plan.object_type}' but got: {inspect(value)}.", field.nodes
    )


def _type_check(plan: SelectionPlan) -> Callable[[Any, Execution, Level, int, FieldPlan], bool]:
    """The object type's `is_type_of`, remembered per class for values that are not
    `strawberry.cast` (Strawberry's check decides by class unless the value is cast)."""
    if plan.check is not None:
        return plan.check  # type: ignore[no-any-return]
    is_type_of = plan.object_type.is_type_of
    checked = plan.checked_classes
    if is_type_of is None:
        plan.check = _always
        return _always

    def check(value: Any, execution: Execution, level: Level, row: int, field: FieldPlan) -> bool:
        if value.__class__ in checked and cast_type(value) is None:
            return True
        path = Path(level.path(row), field.key, field.parent_type.name)
        info = execution.build_info(field.definition, field.nodes, field.parent_type, path)
        verdict = is_type_of(value, info)
        if verdict is True and cast_type(value) is None:
            checked.add(value.__class__)
        return bool(verdict)

    plan.check = check
    return check


def _always(*_: Any) -> bool:
    return True
