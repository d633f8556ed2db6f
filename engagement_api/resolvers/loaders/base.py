"""The one base class of every DataLoader.

It owns what every loader needs: one instance per request (so caches never outlive a
request or a viewer), the viewer's scope on every statement, statement execution through
the request's single database session, and tracing of each batch.
"""

import uuid
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Row, Select

from engagement_api.db.models import Base
from engagement_api.db.pagination import PageRows, Window, split_pages
from engagement_api.db.queries import ConnectionSpec, Filters, by_ids
from engagement_api.db.scope import Scope
from engagement_api.tracing import trace_batch

if TYPE_CHECKING:
    from engagement_api.context import RequestContext

K = TypeVar("K")
V = TypeVar("V")


class Loader(DataLoader[K, V], Generic[K, V]):
    """A request-scoped, viewer-scoped batch loader."""

    def __init__(self, context: "RequestContext") -> None:
        super().__init__()
        self.context = context

    @property
    def scope(self) -> Scope:
        return self.context.scope

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        with trace_batch(type(self).__name__, len(keys)):
            return await self.load_batch(keys)

    @abstractmethod
    async def load_batch(self, keys: Sequence[K]) -> list[V]:
        """One value per key, in the order of `keys`, in as few statements as possible."""

    async def fetch(self, statement: Select[Any]) -> Sequence[Row[Any]]:
        return (await self.context.db.execute(statement)).all()


class ByIdLoader(Loader[uuid.UUID, Row[Any] | None]):
    """Rows by primary key, or None where the row does not exist for this viewer."""

    model: ClassVar[type[Base]]
    visible: ClassVar["staticmethod[[Scope], ColumnElement[bool]]"]

    async def load_batch(self, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
        rows = await self.fetch(by_ids(self.model, type(self).visible, self.scope, list(set(keys))))
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]


PageKey = tuple[uuid.UUID | None, Filters, Window]
"""(parent id, or None for a root connection; filters; window)."""


class PageLoader(Loader[PageKey, PageRows]):
    """Keyset pages of a connection for many parents: one statement per distinct window."""

    spec: ClassVar[ConnectionSpec]

    async def load_batch(self, keys: Sequence[PageKey]) -> list[PageRows]:
        groups: dict[tuple[Filters, Window], list[uuid.UUID | None]] = defaultdict(list)
        for parent_id, filters, window in keys:
            groups[(filters, window)].append(parent_id)
        pages: dict[PageKey, PageRows] = {}
        for (filters, window), parent_ids in groups.items():
            unique = list(dict.fromkeys(parent_ids))
            statement = self.spec.statement(self.scope, unique, filters, window)  # type: ignore[arg-type]
            for parent_id, page in zip(
                unique, split_pages(await self.fetch(statement), unique, window), strict=True
            ):
                pages[(parent_id, filters, window)] = page
        return [pages[key] for key in keys]
