"""A level: the objects completed by one selection plan at one place of the operation, for
all parent rows at once, and where each came from (its path, made only when needed)."""

from typing import Any

from graphql.pyutils import Path

from engagement_api.compiler.errors import Order
from engagement_api.compiler.plan import FieldPlan, SelectionPlan


class Level:
    """`sources[i]` is the object of row i; it is item `items[i]` (None: no list) of field
    `field` of row `parent_rows[i]` of `parent`."""

    __slots__ = (
        "_paths",
        "awaited",
        "field",
        "items",
        "parent",
        "parent_rows",
        "plan",
        "sources",
    )

    def __init__(
        self,
        plan: SelectionPlan,
        sources: list[Any],
        parent: "Level | None" = None,
        field: FieldPlan | None = None,
        parent_rows: list[int] | None = None,
        items: list[int | None] | None = None,
    ) -> None:
        self.plan = plan
        self.sources = sources
        self.parent = parent
        self.field = field
        self.parent_rows = parent_rows or []
        self.items = items
        self._paths: list[Any] | None = None
        self.awaited: dict[int, set[int] | None] = {}
        """The fields whose value was awaited, by field index: in the rows of the set, or
        in every row (None)."""

    def path(self, row: int) -> Path | None:
        """The row's response path (None at the root)."""
        return self.paths()[row]

    def one_path(self, row: int) -> Path | None:
        """The row's response path, without making every row's (a level resolver's info)."""
        if self._paths is not None:
            known: Path | None = self._paths[row]
            return known
        parent = self.parent
        if parent is None:
            return None
        field: FieldPlan = self.field  # type: ignore[assignment]
        path = Path(parent.one_path(self.parent_rows[row]), field.key, field.parent_type.name)
        if self.items is not None:
            path = Path(path, self.items[row], None)  # type: ignore[arg-type]
        return path

    def paths(self) -> list[Path | None]:
        """Every row's response path, made once (the items of one list share their
        field's path)."""
        paths = self._paths
        if paths is not None:
            return paths
        parent = self.parent
        if parent is None:
            paths = self._paths = [None] * len(self.sources)
            return paths
        field: FieldPlan = self.field  # type: ignore[assignment]
        key, type_name = field.key, field.parent_type.name
        above = parent.paths()
        if self.items is None:
            paths = [Path(above[row], key, type_name) for row in self.parent_rows]
        else:
            paths = []
            last, field_path = -1, None
            for row, index in zip(self.parent_rows, self.items, strict=True):
                if row != last:
                    last, field_path = row, Path(above[row], key, type_name)
                paths.append(Path(field_path, index, None))  # type: ignore[arg-type]
        self._paths = paths
        return paths

    def was_awaited(self, field: FieldPlan, row: int) -> bool:
        if field.index not in self.awaited:
            return False
        rows = self.awaited[field.index]
        return rows is None or row in rows

    def async_depth(self, row: int) -> int:
        """How many awaited values lead from the root to the row's object."""
        parent = self.parent
        if parent is None:
            return 0
        field: FieldPlan = self.field  # type: ignore[assignment]
        parent_row = self.parent_rows[row]
        return parent.async_depth(parent_row) + parent.was_awaited(field, parent_row)

    def order(self, row: int) -> Order:
        """The row's place in document order (see `errors.Order`)."""
        parent = self.parent
        if parent is None:
            return ()
        field: FieldPlan = self.field  # type: ignore[assignment]
        order = (*parent.order(self.parent_rows[row]), field.index)
        if self.items is not None:
            return (*order, self.items[row])  # type: ignore[arg-type]
        return order
