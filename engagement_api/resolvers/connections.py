"""Relay cursor connections over keyset pages (domain rules §4, pagination)."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution import VariableValues, get_argument_values
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from engagement_api import fastpath
from engagement_api.db.enums import Role
from engagement_api.db.pagination import PageRows, Window, sort_key_reader
from engagement_api.db.queries import CONNECTIONS, ConnectionSpec, Filters
from engagement_api.db.scope import Scope, symbolic_scope
from engagement_api.errors import BadUserInputError
from engagement_api.loaders.base import ByIdLoader, PageLoader, ParentWithPageLoader
from engagement_api.resolvers.cursors import CursorCodec
from engagement_api.schema.info import request_context
from engagement_api.schema.node import Connection, Edge, PageInfo

T = TypeVar("T")
Selection = SelectedField | FragmentSpread | InlineFragment

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _check_size(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
        raise BadUserInputError(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.", argument=name)


_CODECS: dict[tuple[str, Role], CursorCodec] = {}


def codec_of(spec: ConnectionSpec, scope: Scope) -> CursorCodec:
    """The cursor codec of `spec`'s sort key for this viewer's role, derived once."""
    key = (spec.name, scope.role)
    codec = _CODECS.get(key)
    if codec is None:
        codec = _CODECS[key] = CursorCodec.of(spec.name, spec.ordering(scope))
    return codec


def _derive_every_codec() -> None:
    """Every connection's codec, derived at import: a sort column the codec cannot read
    back stops the server from starting instead of refusing a client's cursor."""
    for spec in CONNECTIONS:
        for role in Role:
            codec_of(spec, symbolic_scope(role))


_derive_every_codec()


def page_window(
    codec: CursorCodec,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool,
) -> Window:
    """The window the pagination arguments ask for; BAD_USER_INPUT when they are invalid."""
    if first is not None and last is not None:
        raise BadUserInputError("Pass `first` or `last`, not both.")
    _check_size("first", first)
    _check_size("last", last)
    backward = last is not None
    limit = last if last is not None else (first if first is not None else DEFAULT_PAGE_SIZE)
    return Window(
        limit=limit,
        backward=backward,
        after=codec.decode(after) if after is not None else None,
        before=codec.decode(before) if before is not None else None,
        with_total=with_total,
    )


def build_connection(
    codec: CursorCodec,
    page: PageRows,
    window: Window,
    key_names: Sequence[str],
    make_node: Callable[[Any], T],
) -> Connection[T]:
    rows = page.rows[: window.limit]
    more = len(page.rows) > window.limit
    if window.backward:
        rows.reverse()
    edges: list[Edge[T]] = []
    if rows:
        key_of = sort_key_reader(rows[0]._fields, key_names)
        edges = [KeyedEdge(make_node(row), codec, key_of, row) for row in rows]
    return Connection(
        edges=edges,
        page_info=KeyedPageInfo(
            has_next_page=page.has_other_side if window.backward else more,
            has_previous_page=more if window.backward else page.has_other_side,
            edges=edges,
        ),
        total_count=page.total,
    )


class KeyedEdge(Edge[T]):
    """An edge that reads its row's sort key and encodes its cursor only when a client asks
    for it: a dashboard reads 800 edges and not one cursor."""

    def __init__(
        self,
        node: T,
        codec: CursorCodec,
        key_of: Callable[[Sequence[Any]], tuple[Any, ...]],
        row: Sequence[Any],
    ) -> None:
        """Args:
        node: the edge's object.
        codec: the connection's cursor codec.
        key_of: what reads a row's sort key, what the cursor holds.
        row: the node's row.
        """
        self.node = node
        self._codec = codec
        self._key_of = key_of
        self._row = row

    @property
    def cursor(self) -> str:  # type: ignore[override]
        return self._codec.encode(self._key_of(self._row))


class KeyedPageInfo(PageInfo):
    """Page info whose start and end cursors are the first and last edges', when asked for."""

    def __init__(
        self, *, has_next_page: bool, has_previous_page: bool, edges: list[Edge[Any]]
    ) -> None:
        """Args:
        has_next_page: whether rows follow the page.
        has_previous_page: whether rows precede the page.
        edges: the page's edges, in connection order.
        """
        self.has_next_page = has_next_page
        self.has_previous_page = has_previous_page
        self._edges = edges

    @property
    def start_cursor(self) -> str | None:  # type: ignore[override]
        return self._edges[0].cursor if self._edges else None

    @property
    def end_cursor(self) -> str | None:  # type: ignore[override]
        return self._edges[-1].cursor if self._edges else None


async def resolve_connection(
    info: strawberry.Info[Any, Any],
    loader: type[PageLoader],
    parent_id: uuid.UUID | None,
    make_node: Callable[[Any], T],
    *,
    filters: Filters = (),
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[T]:
    """One page of `loader`'s connection for `parent_id`, batched with its siblings."""
    context = request_context(info)
    spec = loader.spec
    codec = codec_of(spec, context.scope)
    window = page_window(
        codec,
        first=first,
        after=after,
        last=last,
        before=before,
        with_total=selects(info, "totalCount"),
    )
    page = await context.loader(loader).load((parent_id, filters, window))
    return build_connection(codec, page, window, spec.sort_names(context.scope), make_node)


PAGINATION = frozenset({"first", "after", "last", "before"})


async def load_parent(
    info: strawberry.Info[Any, Any],
    loader: type[ByIdLoader],
    connections: Mapping[str, type[PageLoader]],
    parent_id: uuid.UUID | None,
) -> Any:
    """The parent's row by id (None if not visible). When the selection asks plainly for
    one of the parent's `connections` (field name: its page loader), that page is read by
    the same statement and waits for the connection's resolver (`ParentWithPageLoader`)."""
    if parent_id is None:
        return None
    context = request_context(info)
    asked = _asked_page(info, connections)
    if asked is None:
        return await context.loader(loader).load(parent_id)
    pages, window = asked
    return await context.loader(ParentWithPageLoader).load((pages, parent_id, (), window))


class _Asked(NamedTuple):
    """A connection field the selection holds once, plainly: its page loader, its arguments
    (by GraphQL name) and whether it asks for `totalCount`."""

    pages: type[PageLoader]
    arguments: dict[str, Any]
    with_total: bool


def _asked_page(
    info: strawberry.Info[Any, Any], connections: Mapping[str, type[PageLoader]]
) -> tuple[type[PageLoader], Window] | None:
    """The first of `connections` that the current field's selection holds exactly once, as a
    plain field (no directive) without filters, and the window its resolver will ask for;
    None when the selection has fragments or nothing qualifies (it is then read as usual)."""
    raw = fastpath.graphql_info(info)
    if raw is None:
        asked = _asked_in_selection(info, connections)
    else:
        asked = _asked_in_nodes(raw, connections)
    for candidate in asked or ():
        window = _window_of(info, candidate)
        if window is not None:
            return candidate.pages, window
    return None


def _asked_in_nodes(
    raw: GraphQLResolveInfo[Any], connections: Mapping[str, type[PageLoader]]
) -> list[_Asked] | None:
    """`_asked_page`'s candidates read from graphql-core's syntax tree (the fast path)."""
    selections = [
        selection
        for node in raw.field_nodes
        for selection in (node.selection_set.selections if node.selection_set else ())
    ]
    fields = [selection for selection in selections if isinstance(selection, FieldNode)]
    parent_type = get_named_type(raw.return_type)
    if len(fields) != len(selections) or not isinstance(parent_type, GraphQLObjectType):
        return None
    names = [field.name.value for field in fields]
    # The resolve info holds the coerced variable values only: what arguments read.
    variables = VariableValues(sources={}, coerced=raw.variable_values)  # type: ignore[arg-type]
    asked = []
    for node in fields:
        pages = connections.get(node.name.value)
        definition = parent_type.fields.get(node.name.value)
        if pages is None or definition is None or node.directives:
            continue
        if names.count(node.name.value) != 1:
            continue
        try:
            arguments = get_argument_values(definition, node, variables)
        except GraphQLError:
            continue
        total = _selection_has(node.selection_set, "totalCount", raw.fragments)
        asked.append(_Asked(pages, arguments, total))
    return asked


def _asked_in_selection(
    info: strawberry.Info[Any, Any], connections: Mapping[str, type[PageLoader]]
) -> list[_Asked] | None:
    """`_asked_page`'s candidates read from Strawberry's `selected_fields` (stock execution)."""
    selections = [
        selection
        for field in info.selected_fields
        if isinstance(field, SelectedField)
        for selection in field.selections
    ]
    fields = [selection for selection in selections if isinstance(selection, SelectedField)]
    if len(fields) != len(selections):
        return None
    names = [field.name for field in fields]
    return [
        _Asked(pages, _literal_ints(field.arguments), _selected_has(field.selections, "totalCount"))
        for field in fields
        if (pages := connections.get(field.name)) is not None
        and names.count(field.name) == 1
        and not field.directives
    ]


def _literal_ints(arguments: dict[str, Any]) -> dict[str, Any]:
    """Strawberry's selection holds a literal argument as its text (`first: 10` is "10"),
    variables as their coerced values: the page sizes as ints (validation has checked them)."""
    return {
        name: int(value) if name in PAGE_SIZES and isinstance(value, str) else value
        for name, value in arguments.items()
    }


PAGE_SIZES = frozenset({"first", "last"})


def _window_of(info: strawberry.Info[Any, Any], asked: _Asked) -> Window | None:
    """The window the asked connection's resolver will read, when it filters nothing and
    its arguments are valid; None otherwise (the resolver then reports what is wrong)."""
    arguments = asked.arguments
    if any(value is not None for name, value in arguments.items() if name not in PAGINATION):
        return None  # filtered: read by the connection's own statement
    try:
        return window_of(
            asked.pages.spec, request_context(info).scope, arguments, with_total=asked.with_total
        )
    except BadUserInputError:
        return None


def window_of(
    spec: ConnectionSpec, scope: Scope, arguments: Mapping[str, Any], *, with_total: bool
) -> Window:
    """`page_window` of a connection's arguments (by GraphQL name), with its codec."""
    return page_window(
        codec_of(spec, scope),
        first=arguments.get("first"),
        after=arguments.get("after"),
        last=arguments.get("last"),
        before=arguments.get("before"),
        with_total=with_total,
    )


CONNECTIONS_BY_FIELD: dict[str, ConnectionSpec] = {spec.name: spec for spec in CONNECTIONS}
"""Each connection by the name of its field (one name per connection, on whichever type)."""


def check_selected_pages(info: strawberry.Info[Any, Any]) -> None:
    """BAD_USER_INPUT now for a connection in the current field's selection whose page
    arguments are invalid. A mutation checks its payload's before it writes: the payload is
    read after the write, which is kept even when the payload then fails. What @skip or
    @include leaves out is not read, so not checked."""
    scope = request_context(info).scope
    pending: list[Selection] = list(info.selected_fields)
    while pending:
        selection = pending.pop()
        if not _included(selection):
            continue
        pending.extend(selection.selections)
        if not isinstance(selection, SelectedField):
            continue
        spec = CONNECTIONS_BY_FIELD.get(selection.name)
        if spec is not None:
            window_of(spec, scope, _literal_ints(selection.arguments), with_total=False)


def _included(selection: Selection) -> bool:
    """Whether @skip and @include let a field or fragment run (Strawberry's selection holds
    their `if`, literal or from a variable, as a bool)."""
    directives = selection.directives
    skip = directives.get("skip", {}).get("if", False)
    include = directives.get("include", {}).get("if", True)
    return skip is not True and include is not False


def selects(info: strawberry.Info[Any, Any], field_name: str) -> bool:
    """Whether the current field's selection asks for `field_name` (fragments included)."""
    raw = fastpath.graphql_info(info)
    if raw is None:
        return any(
            _selected_has(field.selections, field_name)
            for field in info.selected_fields
            if isinstance(field, SelectedField)
        )
    return selects_in(raw, field_name)


def selects_in(info: GraphQLResolveInfo[Any], field_name: str) -> bool:
    """`selects` for graphql-core's resolve info."""
    return any(
        _selection_has(node.selection_set, field_name, info.fragments) for node in info.field_nodes
    )


def _selected_has(selections: Sequence[Selection], field_name: str) -> bool:
    """Whether Strawberry's `selections` hold `field_name`, in fragments too."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == field_name:
                return True
        elif _selected_has(selection.selections, field_name):
            return True
    return False


def _selection_has(
    selection_set: SelectionSetNode | None, field_name: str, fragments: dict[str, Any]
) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == field_name:
            return True
        if isinstance(selection, InlineFragmentNode) and _selection_has(
            selection.selection_set, field_name, fragments
        ):
            return True
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and _selection_has(
                fragment.selection_set, field_name, fragments
            ):
                return True
    return False


def filter_values(**arguments: Sequence[Any] | None) -> Filters:
    """Hashable filters from optional list arguments (an absent argument filters nothing)."""
    return tuple(
        (name, tuple(values)) for name, values in sorted(arguments.items()) if values is not None
    )
