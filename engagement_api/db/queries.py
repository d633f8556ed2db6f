"""The SELECT statements of the read graph, built for one scope. No SQL lives elsewhere."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from engagement_api.db import visibility
from engagement_api.db.enums import Role
from engagement_api.db.models import (
    Base,
    Conversation,
    Engagement,
    Message,
    MessageEventHorizon,
    MessageEventPruned,
    MessageEventRow,
    Order,
    Project,
    Proposal,
    Service,
    User,
)
from engagement_api.db.pagination import (
    PARENT_IDS,
    Join,
    Ordering,
    ParentRows,
    SortKey,
    Window,
    page_parameters,
    page_statement,
    probed_by_id,
    sort_key_names,
)
from engagement_api.db.scope import Scope, scope_parameters, symbolic_scope

Visibility = Callable[[Scope], ColumnElement[bool]]
Filters = tuple[tuple[str, tuple[Any, ...]], ...]
"""Hashable connection filters: (argument name, accepted values) pairs."""

NEVER: ColumnElement[datetime] = literal_column(
    "'-infinity'::timestamptz", type_=DateTime(timezone=True)
)
"""What a never-messaged conversation's activity sorts as: after every real time, newest
first. It stays in SQL: its cursor holds null, and no Python datetime stands for it."""


def by_ids(
    model: type[Base], visible: Visibility, scope: Scope, ids: Sequence[uuid.UUID]
) -> Select[Any]:
    table: Table = model.__table__  # type: ignore[assignment]
    return select(table).where(table.c.id.in_(ids), visible(scope))


UNREAD_COLUMNS: dict[type[Base], frozenset[str]] = {
    User: frozenset({"org_id", "created_at"}),
    Message: frozenset({"org_id", "deleted_at"}),
}
"""The columns no type reads, of the models read by the hundred: every read of such a model
(by id, in a page, joined into a page, read along with a page) leaves them out, so its
rows have one shape. Messages and their senders are the rows read by the hundred, and each
value decoded costs the driver (a uuid about 3,000 instructions, a timestamp 7,000); a
visible message's `deleted_at` is always NULL and its organization is the viewer's.
Writes (`db/writes.py`) return whole rows."""


def read_columns(model: type[Base]) -> tuple[str, ...]:
    """The columns every read of `model` returns: all but its `UNREAD_COLUMNS`."""
    unread = UNREAD_COLUMNS.get(model, frozenset())
    names = (column.name for column in model.__table__.columns)
    return tuple(name for name in names if name not in unread)


IDS = "ids"
_BY_IDS: dict[tuple[type[Base], Visibility, Role], Select[Any]] = {}


def by_ids_query(
    model: type[Base], visible: Visibility, scope: Scope, ids: Sequence[uuid.UUID]
) -> tuple[Select[Any], dict[str, Any]]:
    """`by_ids` as a statement built once per (model, visibility, role), and its values."""
    key = (model, visible, scope.role)
    template = _BY_IDS.get(key)
    if template is None:
        table: Table = model.__table__  # type: ignore[assignment]
        visible_rows = visible(symbolic_scope(scope.role))
        columns = [table.c[name] for name in read_columns(model)]
        wanted = bindparam(IDS, type_=ARRAY(UUID(as_uuid=True)))
        template = _BY_IDS[key] = probed_by_id(table, wanted, visible_rows, columns)
    return template, {IDS: list(ids), **scope_parameters(scope)}


@dataclass(frozen=True)
class ConnectionSpec:
    """How one connection reads: its table, parent key, visibility, order and filters."""

    name: str
    model: type[Base]
    visible: Visibility
    ordering: Callable[[Scope], Ordering]
    parent: str | None = None
    filter_columns: dict[str, str] = field(default_factory=dict)
    joins: tuple["JoinSpec", ...] = ()
    parent_model: type[Base] | None = None
    """The parents' model, when a lookup of a parent may read its page in the same statement
    (`page(..., parent_visible=...)`, with the rule of the parents' by-id loader)."""

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    def sort_key_size(self, scope: Scope) -> int:
        """How many parts the sort key (what a cursor holds) has."""
        return len(self.ordering(scope).keys)

    def sort_names(self, scope: Scope) -> tuple[str, ...]:
        """Where each part of the sort key is read from a page row, once per role."""
        key = (self.name, scope.role)
        names = _SORT_NAMES.get(key)
        if names is None:
            names = _SORT_NAMES[key] = sort_key_names(self.table, self.ordering(scope))
        return names

    def page(
        self,
        scope: Scope,
        parent_ids: Sequence[uuid.UUID],
        filters: Filters,
        window: Window,
        *,
        parent_visible: Visibility | None = None,
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The page statement for this shape of request (built once per process) and the
        values of its parameters: viewer, parents, filter values, cursor keys. With
        `parent_visible`, the statement also reads the parents' rows that rule lets the
        viewer see (`ParentRows`)."""
        names = tuple(name for name, _ in filters)
        template = _template(self, scope.role, names, _shape(window), parent_visible)
        values = page_parameters(parent_ids, window)
        values.update({FILTER.format(name): list(accepted) for name, accepted in filters})
        values.update(scope_parameters(scope))
        if self.parent is None:
            del values[PARENT_IDS]
        return template, values

    def statement(
        self,
        scope: Scope,
        parent_ids: Sequence[uuid.UUID],
        filters: Filters,
        window: Window,
    ) -> Select[Any]:
        """The page statement with its parameters' values bound in."""
        template, values = self.page(scope, parent_ids, filters, window)
        return template.params(values)

    def build(
        self,
        role: Role,
        filter_names: tuple[str, ...],
        window: Window,
        parent_visible: Visibility | None = None,
    ) -> Select[Any]:
        scope = symbolic_scope(role)
        conditions = [self.visible(scope)]
        conditions += [
            _one_of(self.table.c[self.filter_columns[name]], FILTER.format(name))
            for name in filter_names
        ]
        parent_column = self.table.c[self.parent] if self.parent else None
        return page_statement(
            self.table,
            parent_column,
            conditions,
            self.ordering(scope),
            window,
            [join.for_scope(scope) for join in self.joins],
            None if parent_visible is None else self._parent_rows(scope, parent_visible),
            read_columns(self.model),
        )

    def _parent_rows(self, scope: Scope, visible: Visibility) -> ParentRows:
        if self.parent_model is None:
            raise ValueError(f"{self.name} has no parent model to read along")
        table: Table = self.parent_model.__table__  # type: ignore[assignment]
        return ParentRows(table, visible(scope), read_columns(self.parent_model))


FILTER = "filter_{}"


def _one_of(column: ColumnElement[Any], parameter: str) -> ColumnElement[bool]:
    """`column = ANY(:parameter)`: one statement text for any number of accepted values (an
    expanding `IN` makes a statement per length, and cannot be prepared once)."""
    return column == any_(bindparam(parameter, type_=ARRAY(column.type)))


_SORT_NAMES: dict[tuple[str, Role], tuple[str, ...]] = {}


def _shape(window: Window) -> Window:
    """The window with its cursor keys replaced by placeholders: what the statement's text
    depends on."""
    return Window(
        limit=window.limit,
        backward=window.backward,
        after=() if window.after is not None else None,
        before=() if window.before is not None else None,
        with_total=window.with_total,
    )


_TEMPLATES: dict[tuple[str, Role, tuple[str, ...], Window, Visibility | None], Select[Any]] = {}
MAX_TEMPLATES = 2048
"""Page statements kept per process: (connection, role, filters, window shape) pairs."""


def _template(
    spec: "ConnectionSpec",
    role: Role,
    filter_names: tuple[str, ...],
    shape: Window,
    parent_visible: Visibility | None,
) -> Select[Any]:
    key = (spec.name, role, filter_names, shape, parent_visible)
    template = _TEMPLATES.get(key)
    if template is None:
        if len(_TEMPLATES) >= MAX_TEMPLATES:
            _TEMPLATES.clear()
        template = _TEMPLATES[key] = spec.build(role, filter_names, shape, parent_visible)
    return template


@dataclass(frozen=True)
class JoinSpec:
    """A many-to-one relation a connection's page statement joins in (see `pagination.Join`):
    the related model, the viewer's visibility of it, and the page table's foreign key."""

    name: str
    model: type[Base]
    visible: Visibility
    foreign_key: str

    def for_scope(self, scope: Scope) -> Join:
        table: Table = self.model.__table__  # type: ignore[assignment]
        columns = read_columns(self.model)
        return Join(self.name, table, self.foreign_key, self.visible(scope), columns)


def _newest_first(model: Any) -> Callable[[Scope], Ordering]:
    ordering = Ordering.of(model.created_at, model.id, descending=True)
    return lambda _scope: ordering


def _conversation_activity(scope: Scope) -> Ordering:
    """The viewer's lastMessageAt, newest first, never-messaged last; then created_at, id."""
    return _CLIENT_ACTIVITY if scope.is_client else _TEAM_ACTIVITY


_TEAM_ACTIVITY = Ordering.of(
    SortKey(Conversation.last_message_at, null_as=NEVER),
    Conversation.created_at,
    Conversation.id,
    descending=True,
)
_CLIENT_ACTIVITY = Ordering.of(
    SortKey(Conversation.last_public_message_at, null_as=NEVER),
    Conversation.created_at,
    Conversation.id,
    descending=True,
)
_PROJECT_ORDER = Ordering.of(Project.phase, Project.created_at, Project.id)
_MESSAGE_ORDER = Ordering.of(Message.created_at, Message.id)

ENGAGEMENTS = ConnectionSpec(
    "engagements",
    Engagement,
    visibility.engagements,
    _newest_first(Engagement),
    filter_columns={"status": "status", "clientId": "client_id"},
)
PROPOSALS = ConnectionSpec(
    "proposals",
    Proposal,
    visibility.proposals,
    _newest_first(Proposal),
    filter_columns={"status": "status"},
)
PROJECTS_OF_ENGAGEMENT = ConnectionSpec(
    "projects",
    Project,
    visibility.projects,
    lambda _scope: _PROJECT_ORDER,
    parent="engagement_id",
    filter_columns={"status": "status", "phase": "phase"},
    parent_model=Engagement,
)
CONVERSATIONS_OF_ENGAGEMENT = ConnectionSpec(
    "conversations",
    Conversation,
    visibility.conversations,
    _conversation_activity,
    parent="engagement_id",
    filter_columns={"status": "status"},
    parent_model=Engagement,
)
ORDERS_OF_ENGAGEMENT = ConnectionSpec(
    "orders",
    Order,
    visibility.orders,
    _newest_first(Order),
    parent="engagement_id",
    parent_model=Engagement,
)
MESSAGES_OF_CONVERSATION = ConnectionSpec(
    "messages",
    Message,
    visibility.messages,
    lambda _scope: _MESSAGE_ORDER,
    parent="conversation_id",
    joins=(JoinSpec("sender", User, visibility.users, "sender_id"),),
    parent_model=Conversation,
)


_SERVICES: dict[Role, Select[Any]] = {}


def services_of_organization(scope: Scope) -> tuple[Select[Any], dict[str, Any]]:
    """The viewer's organization's services, by name: a statement built once per role."""
    template = _SERVICES.get(scope.role)
    if template is None:
        visible = visibility.services(symbolic_scope(scope.role))
        template = _SERVICES[scope.role] = (
            select(Service.__table__).where(visible).order_by(Service.name, Service.id)
        )
    return template, scope_parameters(scope)


def _feed_positions(public: bool) -> Select[Any]:
    wanted = (
        func.unnest(bindparam(IDS, type_=ARRAY(UUID(as_uuid=True))))
        .table_valued(column("id", UUID(as_uuid=True)))
        .render_derived(name="wanted")
    )
    events = MessageEventRow.__table__
    pruned = MessageEventPruned.__table__
    shown = events.c.conversation_id == wanted.c.id
    if public:
        shown = and_(shown, events.c.is_internal.is_(False))
    newest = select(func.max(events.c.position)).where(shown).scalar_subquery()
    marker = pruned.c.public_pruned_through if public else pruned.c.pruned_through
    gone = select(marker).where(pruned.c.conversation_id == wanted.c.id).scalar_subquery()
    markers_from = select(MessageEventHorizon.markers_from).scalar_subquery()
    zero: ColumnElement[int] = literal_column("0")
    position = func.greatest(func.coalesce(newest, zero), func.coalesce(gone, zero), markers_from)
    return select(wanted.c.id, position)


FEED_POSITIONS = {public: _feed_positions(public) for public in (False, True)}
"""Each conversation's (`ids`) live-feed position in the transaction's snapshot, by whether
the viewer is shown public events only (a CLIENT): the newest of the events it is shown, or
what retention pruned of them. Nothing else moves it: a CLIENT's position tells nothing of
internal notes, nor of other conversations. The rows are the organization's (row-level
security); the position goes out enciphered in a cursor only."""


CONNECTIONS = (
    ENGAGEMENTS,
    PROPOSALS,
    PROJECTS_OF_ENGAGEMENT,
    CONVERSATIONS_OF_ENGAGEMENT,
    ORDERS_OF_ENGAGEMENT,
    MESSAGES_OF_CONVERSATION,
)
"""Every connection the read graph pages (the cursor codec tests go through each)."""
