"""Relation fields declared once: which loader reads them, from which attribute of the
parent. By id:

    sender: User = relation(UserByIdLoader, "sender_id")
    proposal: ProposalRef | None = relation(ProposalByIdLoader, "proposal_id")

The field's type says the rest: its object type's `from_row` makes the value, and a
non-null type makes a missing row an error (a row the viewer may not see is missing too,
`db/visibility.py`). A connection of the parent, over a method that declares its
arguments (the page: first/after/last/before; any other argument filters by its name):

    @connection(ProjectsByEngagementIdLoader, "db_id", ProjectRef, description="...")
    def projects(self, info: strawberry.Info, first: int | None = None, ...) -> ...:

A declaration is the field's resolver for one parent row (stock execution) and its level
resolver for all the rows of a level at once (the operation compiler, `compiler/batch.py`):
one `load_many` on the same loader, the same values.
"""

import asyncio
import functools
import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Annotated, Any, get_args, get_origin

import strawberry
from graphql import GraphQLResolveInfo
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from engagement_api.compiler.batch import LEVEL_RESOLVER, level_values
from engagement_api.db.pagination import PageRows, Window
from engagement_api.db.queries import Filters
from engagement_api.loaders.base import ByIdLoader, PageLoader
from engagement_api.resolvers.connections import (
    PAGINATION,
    build_connection,
    codec_of,
    filter_values,
    page_window,
    resolve_connection,
    selects_in,
)
from engagement_api.resolvers.cursors import CursorCodec
from engagement_api.schema.direct import direct
from engagement_api.schema.info import request_context


class ById:
    """A relation field read through a by-id loader, from the parent's `key` attribute."""

    def __init__(self, loader: type[ByIdLoader], key: str) -> None:
        self.loader = loader
        self.key = key
        self.field: StrawberryField | None = None
        self._made: tuple[Callable[[Any], Any], bool] | None = None

    def made(self) -> tuple[Callable[[Any], Any], bool]:
        """What makes the field's value of a row (its type's `from_row`) and whether the
        field is non-null: read from the field's type once the schema has resolved it."""
        if self._made is None:
            assert self.field is not None
            kind: Any = self.field.type
            required = not isinstance(kind, StrawberryOptional)
            if not required:
                kind = kind.of_type
            if isinstance(kind, strawberry.LazyType):
                kind = kind.resolve_type()
            self._made = (kind.from_row, required)
        return self._made

    def missing(self) -> LookupError:
        return LookupError(f"{self.loader.__name__} found nothing for a non-null relation")

    def resolve(self, root: Any, info: strawberry.Info[Any, Any]) -> Any:
        """The value for one parent: at once when the request already holds the row (a page
        statement joined it in, see `Loader.prime_joined`; each distinct row is made once
        per request), otherwise an awaitable of it (GraphQL awaits what a resolver returns)."""
        row_id = getattr(root, self.key)
        if row_id is None:
            return None
        make, required = self.made()
        found, made = request_context(info).loader(self.loader).built(row_id, make)
        if not found:
            return self._later(info, row_id)
        if made is None and required:
            raise self.missing()
        return made

    async def _later(self, info: strawberry.Info[Any, Any], row_id: uuid.UUID) -> Any:
        row = await request_context(info).loader(self.loader).load(row_id)
        make, required = self.made()
        if row is None:
            if required:
                raise self.missing()
            return None
        return make(row)

    def resolve_level(
        self, info: GraphQLResolveInfo[Any], sources: Sequence[Any], arguments: dict[str, Any]
    ) -> "asyncio.Future[list[Any]]":
        """`resolve` for every parent of a level: one `load_many` of the distinct ids, issued
        before this returns; each distinct row made once."""
        ids = list(map(attrgetter(self.key), sources))
        wanted = list(dict.fromkeys(ids))
        if None in wanted:
            wanted.remove(None)
        loading = request_context(info).loader(self.loader).load_many(wanted)
        return level_values(loading, functools.partial(self._made_level, ids, wanted))

    def _made_level(
        self, ids: list[Any], wanted: list[Any], rows: list[Any] | Exception
    ) -> list[Any]:
        if isinstance(rows, Exception):  # the loader failed: every parent with an id fails alike
            return [None if row_id is None else rows for row_id in ids]
        make, required = self.made()
        made = {
            row_id: None if row is None else make(row)
            for row_id, row in zip(wanted, rows, strict=True)
        }
        values = list(map(made.get, ids))
        if required and None in made.values():
            values = [
                self.missing() if value is None and row_id is not None else value
                for row_id, value in zip(ids, values, strict=True)
            ]
        return values


def relation(loader: type[ByIdLoader], key: str, *, description: str | None = None) -> Any:
    """The field reading the parent's `key` attribute through `loader` (see the module)."""
    declared = ById(loader, key)

    @direct
    def resolve(root: Any, info: strawberry.Info[Any, Any]) -> Any:
        return declared.resolve(root, info)

    setattr(resolve, LEVEL_RESOLVER, declared)
    made: StrawberryField = strawberry.field(resolver=resolve, description=description)
    declared.field = made
    return made


class Pages:
    """A connection field of a parent, read through a page loader keyed by the parent's
    `key` attribute: its arguments are the page (`first`, `after`, `last`, `before`) and
    filters (any other argument, by its Python name: a list, or one value)."""

    def __init__(self, loader: type[PageLoader], key: str, node: Any) -> None:
        self.loader = loader
        self.key = key
        self.node = node
        self._make: Callable[[Any], Any] | None = None

    def make(self) -> Callable[[Any], Any]:
        """The node type's `from_row` (resolved on first use: the type may be lazy)."""
        if self._make is None:
            node = self.node
            if get_origin(node) is Annotated:  # Annotated["Name", strawberry.lazy(module)]
                name, reference = get_args(node)
                node = reference.resolve_forward_ref(name).resolve_type()
            self._make = node.from_row
        return self._make

    def resolve(self, root: Any, info: strawberry.Info[Any, Any], arguments: dict[str, Any]) -> Any:
        page, filters = _page_and_filters(arguments)
        return resolve_connection(
            info, self.loader, getattr(root, self.key), self.make(), filters=filters, **page
        )

    def resolve_level(
        self, info: GraphQLResolveInfo[Any], sources: Sequence[Any], arguments: dict[str, Any]
    ) -> "asyncio.Future[list[Any]]":
        """`resolve` for every parent of a level: the window and codec made once, one
        `load_many` of the pages, issued before this returns."""
        page, filters = _page_and_filters(arguments)
        context = request_context(info)
        codec = codec_of(self.loader.spec, context.scope)
        window = page_window(codec, **page, with_total=selects_in(info, "totalCount"))
        keys = [(parent_id, filters, window) for parent_id in map(attrgetter(self.key), sources)]
        loading = context.loader(self.loader).load_many(keys)
        sort_names = self.loader.spec.sort_names(context.scope)
        return level_values(
            loading, functools.partial(self._connections, codec, window, sort_names, len(keys))
        )

    def _connections(
        self,
        codec: CursorCodec,
        window: Window,
        sort_names: tuple[str, ...],
        count: int,
        pages: list[PageRows] | Exception,
    ) -> list[Any]:
        if isinstance(pages, Exception):
            return [pages] * count
        make = self.make()
        return [build_connection(codec, found, window, sort_names, make) for found in pages]


def _page_and_filters(arguments: dict[str, Any]) -> tuple[dict[str, Any], Filters]:
    page = {name: value for name, value in arguments.items() if name in PAGINATION}
    filters = filter_values(
        **{
            name: value if value is None or isinstance(value, list) else [value]
            for name, value in arguments.items()
            if name not in PAGINATION
        }
    )
    return page, filters


def connection(
    loader: type[PageLoader], key: str, node: Any, *, description: str | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """The connection field whose arguments `declaration`'s signature declares (its body is
    not run), read through `loader` from the parent's `key` attribute, `node` (a type, or
    its lazy reference) making each node (see `Pages`)."""
    declared = Pages(loader, key, node)

    def field(declaration: Callable[..., Any]) -> Any:
        @direct
        @functools.wraps(declaration)
        async def resolve(self: Any, info: strawberry.Info[Any, Any], **arguments: Any) -> Any:
            return await declared.resolve(self, info, arguments)

        setattr(resolve, LEVEL_RESOLVER, declared)
        return strawberry.field(resolver=resolve, description=description)

    return field
