"""Read templates run on the driver (`db/prepared.py`) return what SQLAlchemy returns: the
same rows, in the same order, with the same values and types, read the same ways."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from sqlalchemy import Select, bindparam, column, func, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from engagement_api import loaders  # noqa: F401  (registers every by-id loader)
from engagement_api.db import queries
from engagement_api.db.engine import EngineOptions, create_engine
from engagement_api.db.enums import ProjectPhase, ProjectStatus, Role
from engagement_api.db.pagination import Window
from engagement_api.db.prepared import PreparedStatement
from engagement_api.db.scope import Scope
from engagement_api.db.session import VIEWER_STATEMENT, DatabaseSession
from engagement_api.loaders.base import ByIdLoader
from engagement_api.settings import Settings
from tests.factories import Made, World

Template = tuple[Select[Any], dict[str, Any]]


class Thread:
    """An organization with an engagement, projects, a conversation with messages (one
    internal, one with attachments), an order, and its staff and client viewers."""

    def __init__(self, staff: Made, client: Made, engagement: Made, ids: list[uuid.UUID]):
        self.staff, self.client, self.engagement, self.ids = staff, client, engagement, ids


@pytest.fixture
async def thread(world: World) -> Thread:
    org = await world.organization("Prepared reads")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    await world.project(engagement, ProjectPhase.BUILD, ProjectStatus.ACTIVE)
    await world.project(engagement, ProjectPhase.KICKOFF, ProjectStatus.PAUSED)
    conversation = await world.conversation(engagement)
    await world.message(conversation, staff, "internal", is_internal=True)
    attachment = {"name": "a.pdf", "url": "https://files.test/a.pdf", "size": 10}
    await world.message(conversation, client, "files", attachments=[attachment])
    await world.message(conversation, staff, "reply")
    await world.order(org, client, engagement)
    ids = [staff.id, client.id, engagement.id, conversation.id, org.id, uuid.uuid4()]
    return Thread(staff, client, engagement, ids)


@pytest.fixture
async def session(owner_engine: AsyncEngine) -> AsyncIterator[DatabaseSession]:
    session = DatabaseSession(owner_engine)
    yield session
    await session.close(commit=False)


def templates(scope: Scope, thread: Thread) -> list[Template]:
    parents = [thread.engagement.id, uuid.uuid4()]
    cursor = (datetime(2000, 1, 1, tzinfo=UTC), uuid.UUID(int=0))
    made = [
        queries.by_ids_query(loader.model, loader.visible, scope, thread.ids)
        for loader in ByIdLoader._by_model.values()
    ]
    made.append(queries.ENGAGEMENTS.page(scope, [], (), Window(limit=5, with_total=True)))
    made.append(
        queries.ENGAGEMENTS.page(scope, [], (("clientId", (thread.client.id,)),), Window(2))
    )
    projects = queries.PROJECTS_OF_ENGAGEMENT
    statuses = (("status", (ProjectStatus.ACTIVE, ProjectStatus.PAUSED)),)
    made.append(projects.page(scope, parents, statuses, Window(limit=1, with_total=True)))
    made.append(queries.CONVERSATIONS_OF_ENGAGEMENT.page(scope, parents, (), Window(limit=10)))
    made.append(queries.ORDERS_OF_ENGAGEMENT.page(scope, parents, (), Window(limit=10)))
    messages = queries.MESSAGES_OF_CONVERSATION
    conversation = [thread.ids[3]]
    made.append(messages.page(scope, conversation, (), Window(limit=2, backward=True)))
    made.append(messages.page(scope, conversation, (), Window(limit=10, after=cursor)))
    made.append(queries.services_of_organization(scope))
    return made


@pytest.mark.parametrize("role", [Role.STAFF, Role.CLIENT], ids=lambda role: role.name)
async def test_every_read_template_returns_what_sqlalchemy_returns(
    session: DatabaseSession, owner_engine: AsyncEngine, thread: Thread, role: Role
) -> None:
    viewer = thread.staff if role is Role.STAFF else thread.client
    row = await session.open_for_viewer(viewer.id)
    assert row is not None
    scope = Scope(row.org_id, row.id, row.role)
    found = 0
    for statement, parameters in templates(scope, thread):
        expected = await _through_sqlalchemy(owner_engine, viewer.id, statement, parameters)
        rows = await session.fetch(statement, parameters)
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
        assert [list(map(type, row)) for row in rows] == [list(map(type, r)) for r in expected]
        for prepared_row, sqlalchemy_row in zip(rows, expected, strict=True):
            fields: Any = prepared_row
            assert fields._fields == sqlalchemy_row._fields
            assert fields._mapping == dict(sqlalchemy_row._mapping)
            for name in sqlalchemy_row._fields:
                if not name.startswith("_"):  # SQLAlchemy's Row keeps those names for itself
                    assert getattr(prepared_row, name) == getattr(sqlalchemy_row, name)
        found += len(rows)
    assert found > 10  # the templates read real rows, not only empty pages


async def _through_sqlalchemy(
    engine: AsyncEngine, viewer_id: uuid.UUID, statement: Select[Any], parameters: dict[str, Any]
) -> list[Any]:
    """The rows SQLAlchemy's own execution returns, in a transaction of its own opened as
    the same viewer (the data does not change meanwhile)."""
    async with engine.connect() as connection:
        await connection.execute(VIEWER_STATEMENT, {"viewer_id": viewer_id})
        rows = list((await connection.execute(statement, parameters)).all())
        await connection.rollback()
    return rows


async def test_each_read_counts_as_one_statement(session: DatabaseSession, thread: Thread) -> None:
    row = await session.open_for_viewer(thread.staff.id)
    assert row is not None
    before = session.statements.count
    statement, parameters = queries.services_of_organization(Scope(row.org_id, row.id, row.role))
    await session.fetch(statement, parameters)
    assert session.statements.count == before + 1


def test_a_list_expanded_into_in_cannot_be_prepared() -> None:
    ids: Any = bindparam("ids", expanding=True)
    statement: Select[Any] = select(column("id")).where(column("id").in_(ids))
    with pytest.raises(ValueError, match="ANY"):
        PreparedStatement(statement, asyncpg_dialect())  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("setting", "expected"), [(None, "force_generic_plan"), ("auto", "auto")], ids=str
)
async def test_the_app_connections_use_the_configured_plan_cache_mode(
    database_url: str,
    setting: Literal["auto", "force_generic_plan", "force_custom_plan"] | None,
    expected: str,
) -> None:
    settings = Settings() if setting is None else Settings(db_plan_cache_mode=setting)
    engine = create_engine(database_url, EngineOptions.from_settings(settings))
    session = DatabaseSession(engine)
    try:
        rows = await session.fetch(select(func.current_setting("plan_cache_mode")))
        await session.close(commit=False)
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(expected,)]


def _checked_out(engine: AsyncEngine) -> int:
    """The connections the engine's pool has lent out (a bounded pool: a QueuePool)."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def test_a_request_cancelled_while_opening_its_transaction_gives_its_connection_back(
    database_url: str, thread: Thread
) -> None:
    engine = create_engine(database_url, EngineOptions(pool_size=2, max_overflow=0))
    try:
        for turns in range(40):  # cancelled at each point in turn: connect, BEGIN, the viewer
            session = DatabaseSession(engine)
            opening = asyncio.create_task(session.open_for_viewer(thread.staff.id))
            await asyncio.sleep(turns * 0.00005)
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opening
            await session.close(commit=False)
            assert _checked_out(engine) == 0, f"after {turns} turns"
        session = DatabaseSession(engine)  # and the pool still serves a working connection
        assert await session.open_for_viewer(thread.staff.id) is not None
        await session.close(commit=False)
    finally:
        await engine.dispose()
