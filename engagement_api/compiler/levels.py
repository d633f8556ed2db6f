"""A level: the objects completed by one selection plan at one place of the operation, for
all parent rows at once, and where each came from (its path, made only when needed)."""

from typing import Any

from graphql.pyutils import Path

from engagement_api.compiler.errors import Order
from engagement_api.compiler.plan import FieldPlan, SelectionPlan

_UNKNOWN: Any = object()


class Level:
    """`sources[i]` is the object of row i; it is item `items[i]` (None: no list) of field
    `field` of row `parent_rows[i]` of `parent`."""

    __slots__ = ("_paths", "field", "items", "parent", "parent_rows", "plan", "sources")

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

    def path(self, row: int) -> Path | None:
        """The row's response path (None at the root)."""
        parent = self.parent
        if parent is None:
            return None
        paths = self._paths
        if paths is None:
            paths = self._paths = [_UNKNOWN] * len(self.sources)
        path = paths[row]
        if path is _UNKNOWN:
            field: FieldPlan = self.field  # type: ignore[assignment]
            path = Path(parent.path(self.parent_rows[row]), field.key, field.parent_type.name)
            if self.items is not None:
                path = Path(path, self.items[row], None)  # type: ignore[arg-type]
            paths[row] = path
        return path  # type: ignore[no-any-return]

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
