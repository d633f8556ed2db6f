"""The one base class of every DataLoader.

It owns what every loader needs: one instance per request (so caches never outlive a
request or a viewer), the viewer's scope on every statement, statement execution through
the request's single database session, and tracing of each batch.
"""

import asyncio
import uuid
from abc import abstractmethod
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Row, Select

from engagement_api.db.models import Base
from engagement_api.db.pagination import PARENT_ROW, Join, PageRows, Window, split_pages
from engagement_api.db.queries import ConnectionSpec, Filters, by_ids_query, read_columns
from engagement_api.db.scope import Scope
from engagement_api.observability.tracing import trace_batch

if TYPE_CHECKING:
    from engagement_api.context import RequestContext

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class Loader(DataLoader[K, V], Generic[K, V]):
    """A request-scoped, viewer-scoped batch loader."""

    def __init__(self, context: "RequestContext") -> None:
        # aiodataloader's `cache_map`: the futures by key, readable without its internals.
        self.futures: dict[K, asyncio.Future[V]] = {}
        super().__init__(cache_map=self.futures)
        self.context = context
        self._built: dict[tuple[K, Callable[[V], Any]], Any] = {}

    @property
    def scope(self) -> Scope:
        return self.context.scope

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        with trace_batch(type(self).__name__, len(keys)):
            return await self.load_batch(keys)

    @abstractmethod
    async def load_batch(self, keys: Sequence[K]) -> list[V]:
        """One value per key, in the order of `keys`, in as few statements as possible."""

    async def fetch(
        self, statement: Select[Any], parameters: dict[str, Any] | None = None
    ) -> list[Any]:
        """The rows of a read template (one statement object per shape, `db/queries.py`):
        read like SQLAlchemy's rows, by attribute and by position (`db/prepared.py`)."""
        return await self.context.db.fetch(statement, parameters)

    def load(self, key: K) -> "asyncio.Future[V]":
        """The key's future, shielded while pending: graphql-core cancels the sibling fields
        of a failed one, and a waiter cancelled would cancel the future that every other
        waiter of the request shares (they would fail with it, the whole request with them)."""
        future = super().load(key)
        return future if future.done() else _shielded(future)

    def load_many(self, keys: Iterable[K]) -> "asyncio.Future[list[V]]":
        """As `load`, with one shield around the whole list."""
        futures = [DataLoader.load(self, key) for key in keys]
        return _shielded(asyncio.gather(*futures))

    def peek(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when this request already holds `key`'s value (loaded or primed),
        so that a resolver can return it at once instead of awaiting; (False, None) else."""
        future = self.futures.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return False, None
        return True, future.result()

    def built(self, key: K, build: Callable[[V], Any]) -> tuple[bool, Any]:
        """(True, build(value)) when this request already holds `key`'s value, building it
        once per request: 600 messages of five senders make five User objects, not 600."""
        memo = (key, build)
        if memo in self._built:
            return True, self._built[memo]
        found, value = self.peek(key)
        if not found or value is None:
            return found, None
        made = self._built[memo] = build(value)
        return True, made

    def prime_joined(self, spec: ConnectionSpec, rows: Sequence[Row[Any]]) -> None:
        """Hand the rows that `spec`'s page statement joined in (a message's sender) to their
        by-id loaders: those relations then resolve without a statement of their own."""
        if not rows:
            return
        fields = rows[0]._fields
        for join in spec.joins:
            loader = self.context.loader(ByIdLoader.for_model(join.model))
            joined = _joined_rows(join.model, join.name, fields)
            foreign_key = fields.index(join.foreign_key)
            joined_id = fields.index(Join.label_of(join.name, "id"))
            for row in rows:
                key = row[foreign_key]
                if key is not None and key not in loader.futures:
                    loader.prime(key, joined(row) if row[joined_id] is not None else None)


@cache
def _joined_rows(
    model: type[Base], name: str, fields: tuple[str, ...]
) -> Callable[[Sequence[Any]], Any]:
    """What makes, from a page row with `fields`, the row of `model` (attribute access, as a
    by-id loader's rows) from its `<name>__<column>` columns."""
    columns = read_columns(model)
    row_class: Any = namedtuple(f"Joined{model.__name__}", columns)  # type: ignore[misc]
    make = row_class._make
    picked = itemgetter(*(fields.index(Join.label_of(name, column)) for column in columns))
    return lambda row: make(picked(row))


class ByIdLoader(Loader[uuid.UUID, Row[Any] | None]):
    """Rows by primary key, or None where the row does not exist for this viewer."""

    model: ClassVar[type[Base]]
    visible: ClassVar["staticmethod[[Scope], ColumnElement[bool]]"]
    _by_model: ClassVar[dict[type[Base], type["ByIdLoader"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ByIdLoader._by_model[cls.model] = cls

    @staticmethod
    def for_model(model: type[Base]) -> type["ByIdLoader"]:
        return ByIdLoader._by_model[model]

    async def load_batch(self, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
        statement, parameters = by_ids_query(
            self.model, type(self).visible, self.scope, list(set(keys))
        )
        rows = await self.fetch(statement, parameters)
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]


PageKey = tuple[uuid.UUID | None, Filters, Window]
"""(parent id, or None for a root connection; filters; window)."""


class PageLoader(Loader[PageKey, PageRows]):
    """Keyset pages of a connection for many parents: one statement per distinct window,
    where windows without a cursor read from the same end share one (`reach`)."""

    spec: ClassVar[ConnectionSpec]

    async def load_batch(self, keys: Sequence[PageKey]) -> list[PageRows]:
        groups: dict[tuple[Filters, Window], list[uuid.UUID | None]] = defaultdict(list)
        reached = reach([window for _, _, window in keys])
        for parent_id, filters, window in keys:
            groups[(filters, reached[window])].append(parent_id)
        pages: dict[PageKey, PageRows] = {}
        for (filters, window), parent_ids in groups.items():
            unique = list(dict.fromkeys(parent_ids))
            statement, parameters = self.spec.page(self.scope, unique, filters, window)  # type: ignore[arg-type]
            rows = await self.fetch(statement, parameters)
            self.prime_joined(self.spec, rows)
            for parent_id, page in zip(unique, split_pages(rows, unique, window), strict=True):
                pages[(parent_id, filters, window)] = page
        return [
            narrowed(pages[(parent_id, filters, reached[window])], window)
            for parent_id, filters, window in keys
        ]


ParentPageKey = tuple[type[PageLoader], uuid.UUID, Filters, Window]
"""(the connection's page loader, parent id, filters, window)."""


class ParentWithPageLoader(Loader[ParentPageKey, Row[Any] | None]):
    """Parents by id, each with one page of one of its connections, in ONE statement per
    connection and window: a lookup of a conversation that also asks for its messages costs
    one round trip, not two. The value is the parent's row (None where the viewer may not
    see it); the row is handed to the parents' by-id loader and the page to the connection's
    loader, so the parent's fields and its connection field resolve without statements of
    their own."""

    async def load_batch(self, keys: Sequence[ParentPageKey]) -> list[Row[Any] | None]:
        groups: dict[tuple[type[PageLoader], Filters, Window], list[uuid.UUID]]
        groups = defaultdict(list)
        for pages, parent_id, filters, window in keys:
            groups[(pages, filters, window)].append(parent_id)
        found: dict[ParentPageKey, Row[Any] | None] = {}
        for (pages, filters, window), parent_ids in groups.items():
            unique = list(dict.fromkeys(parent_ids))
            for parent_id, parent in zip(
                unique, await self._read(pages, unique, filters, window), strict=True
            ):
                found[(pages, parent_id, filters, window)] = parent
        return [found[key] for key in keys]

    async def _read(
        self,
        pages: type[PageLoader],
        parent_ids: list[uuid.UUID],
        filters: Filters,
        window: Window,
    ) -> list[Row[Any] | None]:
        spec = pages.spec
        assert spec.parent_model is not None
        by_id = ByIdLoader.for_model(spec.parent_model)
        statement, parameters = spec.page(
            self.scope, parent_ids, filters, window, parent_visible=by_id.visible
        )
        rows = await self.fetch(statement, parameters)
        self.prime_joined(spec, rows)
        parents = _parent_rows(spec.parent_model, rows)
        parent_loader = self.context.loader(by_id)
        page_loader = self.context.loader(pages)
        for parent_id, page in zip(parent_ids, split_pages(rows, parent_ids, window), strict=True):
            parent_loader.prime(parent_id, parents.get(parent_id))
            if parent_id in parents:
                page_loader.prime((parent_id, filters, window), page)
        return [parents.get(parent_id) for parent_id in parent_ids]


def _parent_rows(model: type[Base], rows: Sequence[Row[Any]]) -> dict[uuid.UUID, Any]:
    """The parents' rows that a page statement read along (`ParentRows`), by id."""
    if not rows:
        return {}
    fields = rows[0]._fields
    parent_row = _joined_rows(model, PARENT_ROW, fields)
    own_id = fields.index(Join.label_of(PARENT_ROW, "id"))
    return {  # a parent's first row carries it (`pagination._parent_columns`)
        row[own_id]: parent_row(row) for row in rows if row[own_id] is not None
    }


def reach(windows: Sequence[Window]) -> dict[Window, Window]:
    """The window each one is read with. A window without a cursor is the first rows of any
    longer one read from the same end: those merge into one with the largest limit (and a
    total when any asks for it), so `lastMessage` and `messages(last: 10)` of the same
    conversations cost one statement. Windows with a cursor are read as they are."""
    merged: dict[bool, Window] = {}
    for window in windows:
        if window.after is None and window.before is None:
            widest = merged.get(window.backward, window)
            merged[window.backward] = Window(
                limit=max(widest.limit, window.limit),
                backward=window.backward,
                with_total=widest.with_total or window.with_total,
            )
    return {
        window: window
        if window.after is not None or window.before is not None
        else merged[window.backward]
        for window in windows
    }


def narrowed(page: PageRows, window: Window) -> PageRows:
    """`page` (read with a window that reaches at least as far) as `window` would read it."""
    if len(page.rows) <= window.limit + 1 and (page.total == 0 or window.with_total):
        return page
    total = page.total if window.with_total else 0
    return PageRows(page.rows[: window.limit + 1], total, page.has_other_side)


def _shielded(inner: "asyncio.Future[T]") -> "asyncio.Future[T]":
    """What `asyncio.shield` returns, with one difference: once the waiter is cancelled,
    `inner`'s failure is still marked seen when it comes (asyncio's shield stops watching
    it), else asyncio logs it as the server's error ("exception was never retrieved"): a
    subscription whose client left mid-event, its batch failing on the ended transaction."""
    outer: asyncio.Future[T] = inner.get_loop().create_future()

    def settle(inner: "asyncio.Future[T]") -> None:
        if outer.cancelled():
            if not inner.cancelled():
                inner.exception()
        elif inner.cancelled():
            outer.cancel()
        elif (error := inner.exception()) is not None:
            outer.set_exception(error)
        else:
            outer.set_result(inner.result())

    inner.add_done_callback(settle)
    return outer
