"""Row-level security (domain rules §5), proven through the server's own session machinery.

Statements here deliberately lack their `org_id` filter: PostgreSQL alone must keep the
other tenant's rows out, on a fresh connection and on a pooled one reused across tenants.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.engine import EngineOptions, create_engine
from engagement_api.db.enums import Role
from engagement_api.db.models import (
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
from engagement_api.db.session import DatabaseSession
from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING
from tests.factories import Made, World

TENANT_MODELS = [Organization, User, Service, Proposal, Order, Engagement, Project]
TENANT_MODELS += [Conversation, Message]


@dataclass(frozen=True)
class Tenant:
    org: Made
    staff: Made
    engagement: Made


async def _tenant(world: World) -> Tenant:
    org = await world.organization("RLS")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    await world.service(org)
    await world.proposal(org, client)
    engagement = await world.engagement(org, client)
    await world.order(org, client, engagement)
    await world.project(engagement)
    conversation = await world.conversation(engagement)
    await world.message(conversation, staff)
    return Tenant(org, staff, engagement)


@pytest.fixture
async def tenants(world: World) -> tuple[Tenant, Tenant]:
    return await _tenant(world), await _tenant(world)


@pytest.fixture
async def single_connection_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A pool of exactly one connection: every session reuses the same backend."""
    engine = create_engine(database_url, EngineOptions(pool_size=1, max_overflow=0))
    yield engine
    await engine.dispose()


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _org_column(model: Any) -> Any:
    table = _table(model)
    return table.c.id if model is Organization else table.c.org_id


async def _org_ids_seen(session: DatabaseSession, model: Any) -> set[Any]:
    """The organizations of every row the session sees, with no filter in the statement."""
    rows = (await session.execute(select(_org_column(model)))).all()
    return {row[0] for row in rows}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__tablename__)
async def test_unfiltered_select_returns_only_the_viewers_organization(
    owner_engine: AsyncEngine, tenants: tuple[Tenant, Tenant], model: Any
) -> None:
    mine, theirs = tenants
    session = DatabaseSession(owner_engine)
    await session.open_for_viewer(mine.staff.id)
    try:
        seen = await _org_ids_seen(session, model)
    finally:
        await session.close(commit=False)
    assert mine.org.id in seen
    assert theirs.org.id not in seen


async def test_pooled_connection_reused_by_another_organization_sees_nothing_of_the_first(
    single_connection_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    first, second = tenants
    backends, seen = [], []
    for tenant in (first, second):
        session = DatabaseSession(single_connection_engine)
        await session.open_for_viewer(tenant.staff.id)
        backends.append((await session.execute(select(func.pg_backend_pid()))).one()[0])
        seen.append(await _org_ids_seen(session, Engagement))
        await session.close(commit=True)
    assert backends[0] == backends[1]
    assert seen == [{first.org.id}, {second.org.id}]


async def test_pooled_connection_keeps_no_role_or_tenant_setting_after_a_request(
    single_connection_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    session = DatabaseSession(single_connection_engine)
    await session.open_for_viewer(tenants[0].staff.id)
    await session.close(commit=True)
    async with single_connection_engine.connect() as connection:
        role, org = (
            await connection.execute(
                select(func.current_user(), func.current_setting(ORG_SETTING, True))
            )
        ).one()
    assert role != APP_ROLE
    assert org in (None, "")


async def test_session_without_a_viewer_sees_no_tenant_row(
    owner_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    session = DatabaseSession(owner_engine)
    try:
        seen = await _org_ids_seen(session, Engagement)
    finally:
        await session.close(commit=False)
    assert seen == set()


async def test_insert_into_another_organization_is_refused_by_the_policy(
    owner_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, theirs = tenants
    session = DatabaseSession(owner_engine)
    await session.open_for_viewer(mine.staff.id)
    statement = insert(Service).values(org_id=theirs.org.id, name="Planted")
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await session.execute(statement)
    finally:
        await session.close(commit=False)


async def test_update_of_another_organizations_row_changes_nothing(
    owner_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, theirs = tenants
    session = DatabaseSession(owner_engine)
    await session.open_for_viewer(mine.staff.id)
    statement = (
        update(Engagement)
        .where(Engagement.id == theirs.engagement.id)
        .values(name="Hijacked")
        .returning(Engagement.id)
    )
    try:
        changed = len((await session.execute(statement)).all())
    finally:
        await session.close(commit=True)
    async with owner_engine.connect() as connection:
        name = (
            await connection.execute(
                select(Engagement.name).where(Engagement.id == theirs.engagement.id)
            )
        ).scalar()
    assert (changed, name) == (0, None)


async def test_request_role_is_neither_superuser_nor_bypassing_rls_nor_table_owner(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT r.rolsuper, r.rolbypassrls, "
                    "(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) "
                    "FROM pg_roles r WHERE r.rolname = :role"
                ),
                {"role": APP_ROLE},
            )
        ).one()
    assert tuple(row) == (False, False, 0)


async def test_every_table_with_org_id_has_forced_row_level_security_and_a_policy(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        unprotected = (
            await connection.execute(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                    "WHERE c.relkind = 'r' AND (c.relname = 'organizations' OR EXISTS ("
                    "  SELECT FROM pg_attribute a WHERE a.attrelid = c.oid "
                    "  AND a.attname = 'org_id' AND NOT a.attisdropped)) "
                    "AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND EXISTS ("
                    "  SELECT FROM pg_policy p WHERE p.polrelid = c.oid))"
                )
            )
        ).all()
    assert unprotected == []


async def test_policies_read_the_tenant_setting_once_per_statement_not_per_row(
    owner_engine: AsyncEngine, tenants: tuple[Tenant, Tenant]
) -> None:
    """EXPLAIN: the setting is an InitPlan computed once; no row filter calls a function."""
    session = DatabaseSession(owner_engine)
    await session.open_for_viewer(tenants[0].staff.id)
    try:
        plan = [
            row[0]
            for row in (
                await session.execute(
                    text("EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM conversation_messages")
                )
            ).all()
        ]
    finally:
        await session.close(commit=False)
    conditions = [line for line in plan if "Filter:" in line or "Cond:" in line]
    assert any("InitPlan" in line for line in plan), plan
    assert conditions, plan
    assert not any("current_setting" in line for line in conditions), plan
