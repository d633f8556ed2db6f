"""The row protocols (`db/rows.py`) that every `from_row` is checked against hold the
columns each read returns, typed as the models declare them, and the rows the database
returns have those types."""

import types
import typing
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped

from engagement_api import loaders  # noqa: F401  (registers every by-id loader)
from engagement_api.db import queries, rows
from engagement_api.db.enums import EngagementStatus, ProjectStatus, ProposalStatus, Role
from engagement_api.db.models import (
    Base,
    Conversation,
    Engagement,
    Message,
    Order,
    Organization,
    Project,
    Proposal,
    Service,
    User,
)
from engagement_api.db.pagination import Window
from engagement_api.db.scope import Scope
from engagement_api.db.session import DatabaseSession
from engagement_api.loaders.base import ByIdLoader
from engagement_api.schema.types import (
    conversation,
    engagement,
    message,
    order,
    organization,
    project,
    proposal,
    service,
    user,
    viewer,
)
from tests.factories import World


def _every_column(model: type[Base]) -> tuple[str, ...]:
    return tuple(column.name for column in model.__table__.columns)


READ_ROWS: list[tuple[Any, type[Base], tuple[str, ...]]] = [
    (rows.OrganizationRow, Organization, queries.read_columns(Organization)),
    (rows.UserRow, User, queries.read_columns(User)),
    (rows.ViewerRow, User, _every_column(User)),
    (rows.ServiceRow, Service, queries.read_columns(Service)),
    (rows.ProposalRow, Proposal, queries.read_columns(Proposal)),
    (rows.OrderRow, Order, queries.read_columns(Order)),
    (rows.EngagementRow, Engagement, queries.read_columns(Engagement)),
    (rows.ProjectRow, Project, queries.read_columns(Project)),
    (rows.ConversationRow, Conversation, queries.read_columns(Conversation)),
    (rows.MessageRow, Message, queries.read_columns(Message)),
    (rows.StoredMessageRow, Message, _every_column(Message)),
]
"""Each protocol, its model, and the columns of the rows it describes: a read's (all but
`UNREAD_COLUMNS`), or every column (the viewer's row, a write's `RETURNING`)."""

FROM_ROW: list[tuple[Any, Any]] = [
    (organization.Organization, rows.OrganizationRow),
    (user.User, rows.UserRow),
    (viewer.Viewer, rows.ViewerRow),
    (service.Service, rows.ServiceRow),
    (proposal.Proposal, rows.ProposalRow),
    (order.Order, rows.OrderRow),
    (engagement.Engagement, rows.EngagementRow),
    (project.Project, rows.ProjectRow),
    (conversation.Conversation, rows.ConversationRow),
    (message.Message, rows.MessageRow),
]


def _declared(model: type[Base], name: str) -> Any:
    """The Python type the model declares for a column (`Mapped[...]`)."""
    mapped = typing.get_type_hints(model)[name]
    assert typing.get_origin(mapped) is Mapped
    return typing.get_args(mapped)[0]


@pytest.mark.parametrize(
    ("protocol", "model", "columns"), READ_ROWS, ids=lambda item: getattr(item, "__name__", "")
)
def test_a_row_protocol_holds_the_columns_read_with_the_models_types(
    protocol: Any, model: type[Base], columns: tuple[str, ...]
) -> None:
    declared = {name: _declared(model, name) for name in columns}
    assert typing.get_type_hints(protocol) == declared


@pytest.mark.parametrize(("kind", "protocol"), FROM_ROW, ids=lambda item: item.__name__)
def test_each_from_row_takes_the_row_of_its_model(kind: Any, protocol: Any) -> None:
    assert typing.get_type_hints(kind.from_row)["row"] is protocol


def conforms(value: object, annotation: Any) -> bool:
    """Whether a value the driver returned has the annotated type (unions, `None`, and a
    list by its items' class)."""
    if isinstance(annotation, types.UnionType):
        return any(conforms(value, arm) for arm in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if typing.get_origin(annotation) is list:  # attachments: a list of JSON objects
        (item,) = typing.get_args(annotation)
        kind = typing.get_origin(item) or item
        return isinstance(value, list) and all(isinstance(element, kind) for element in value)
    return isinstance(value, annotation)


NULL_WHEN_READ = {(rows.ProjectRow, "deleted_at")}
"""Columns a visible row always has NULL in (a deleted project is never read)."""


@pytest.fixture
async def session(owner_engine: AsyncEngine) -> AsyncIterator[DatabaseSession]:
    session = DatabaseSession(owner_engine)
    yield session
    await session.close(commit=False)


async def test_the_rows_read_have_the_types_their_protocols_declare(
    world: World, session: DatabaseSession
) -> None:
    """Every read row's values, the nullable ones set in at least one row, against its
    protocol: what the driver decodes (uuids, enums, timestamps, jsonb) is what mypy was
    told."""
    org = await world.organization("Row types")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    offered = await world.service(org, description="Design and build")
    first = await world.proposal(org, client)
    closed = datetime(2026, 2, 1, tzinfo=UTC)
    engaged = await world.engagement(
        org, client, EngagementStatus.CLOSED, name="Rebuild", proposal_id=first.id, closed_at=closed
    )
    ordered = await world.order(org, client, engaged, proposal_id=first.id)
    signed = await world.proposal(
        org,
        client,
        ProposalStatus.SIGNED,
        service_id=offered.id,
        signed_at=closed,
        converted_order_id=ordered.id,
        converted_engagement_id=engaged.id,
    )
    done = await world.project(
        engaged,
        status=ProjectStatus.COMPLETED,
        description="Pages",
        service_id=offered.id,
        completed_at=closed,
    )
    thread = await world.conversation(engaged, subject="Launch")
    attachment = {"name": "a.pdf", "url": "https://files.test/a.pdf", "size": 10}
    files = await world.message(thread, client, "files", attachments=[attachment])
    reply = await world.message(thread, staff, "reply")
    made = [
        org,
        staff,
        client,
        offered,
        first,
        engaged,
        ordered,
        signed,
        done,
        thread,
        files,
        reply,
    ]

    viewer_row = await session.open_for_viewer(staff.id)
    assert viewer_row is not None
    scope = Scope(viewer_row.org_id, viewer_row.id, viewer_row.role)
    read: dict[Any, list[Any]] = {rows.ViewerRow: [viewer_row]}
    read_row_of = {
        model: protocol
        for protocol, model, columns in READ_ROWS
        if columns == queries.read_columns(model)
    }
    for loader in ByIdLoader._by_model.values():
        protocol = read_row_of[loader.model]
        ids = [each.id for each in made]
        statement, parameters = queries.by_ids_query(loader.model, loader.visible, scope, ids)
        read.setdefault(protocol, []).extend(await session.fetch(statement, parameters))
    page, parameters = queries.MESSAGES_OF_CONVERSATION.page(scope, [thread.id], (), Window(10))
    read[rows.MessageRow].extend(await session.fetch(page, parameters))

    for protocol, model, _columns in READ_ROWS:
        if protocol is rows.StoredMessageRow:
            continue  # a write's row, checked against the columns above
        found = read.get(protocol, [])
        assert found, f"no {model.__name__} row was read"
        for name, annotation in typing.get_type_hints(protocol).items():
            values = [getattr(row, name) for row in found]
            for value in values:
                assert conforms(value, annotation), (protocol.__name__, name, value)
            if (protocol, name) not in NULL_WHEN_READ:
                assert any(value is not None for value in values), (protocol.__name__, name)
