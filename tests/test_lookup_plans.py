"""A lookup by id is one primary-key probe per id in the plan the server runs, whatever the
size of the viewer's organization. The server's statements run on generic plans
(`DB_PLAN_CACHE_MODE=force_generic_plan`), which cannot see how many ids an array holds:
with a plain `id = ANY(...)` such a plan read the organization's rows through its `org_id`
index instead, every row of a large tenant for one id."""

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import Select, TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api import loaders  # noqa: F401  (registers every by-id loader)
from engagement_api.db import queries
from engagement_api.db.enums import Role
from engagement_api.db.pagination import Window
from engagement_api.db.prepared import PreparedStatement
from engagement_api.db.scope import Scope
from engagement_api.db.session import DatabaseSession
from engagement_api.loaders.engagements import EngagementByIdLoader
from engagement_api.loaders.projects import ProjectsByEngagementIdLoader
from tests.factories import Made, World

ENGAGEMENTS_OF_THE_LARGE_TENANT = 5_000
SMALL_TENANTS = 12


@pytest.fixture
async def tenant(world: World, owner_engine: AsyncEngine) -> tuple[Made, list[uuid.UUID]]:
    """A staff member of an organization with thousands of engagements, beside small
    organizations, with fresh statistics (the planner's view of how rows spread)."""
    large = await world.organization("Large tenant")
    staff = await world.user(large, Role.STAFF)
    first = await world.engagement(large, await world.user(large, Role.CLIENT))
    for number in range(SMALL_TENANTS):
        small = await world.organization(f"Small tenant {number}")
        await world.engagement(small, await world.user(small, Role.CLIENT))
    async with owner_engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        columns = [
            row["column_name"]
            for row in await driver.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'engagements' AND column_name <> 'id'"
            )
        ]
        listed = ", ".join(columns)
        await driver.execute(
            f"INSERT INTO engagements (id, {listed}) SELECT gen_random_uuid(), {listed}"
            " FROM engagements, generate_series(2, $2) WHERE id = $1",
            first.id,
            ENGAGEMENTS_OF_THE_LARGE_TENANT,
        )
        await driver.execute("ANALYZE engagements")
    return staff, [first.id]


async def generic_plan(
    session: DatabaseSession, dialect: Dialect, template: Select[Any], values: dict[str, Any]
) -> Any:
    """The plan of `template` as the server runs it: prepared, generic, as the viewer."""
    statement = PreparedStatement(template, dialect)
    literals = ", ".join(map(literal, statement.arguments(values)))
    await session.execute(sql("SET LOCAL plan_cache_mode = force_generic_plan"))
    await session.execute(sql(f"PREPARE lookup AS {statement.sql}"))
    try:
        result = await session.execute(sql(f"EXPLAIN (FORMAT JSON) EXECUTE lookup({literals})"))
    finally:
        await session.execute(sql("DEALLOCATE lookup"))
    explained = result.one()[0]
    if isinstance(explained, str):  # no JSON codec on this connection
        explained = orjson.loads(explained)
    return explained[0]["Plan"]


def sql(command: str) -> TextClause:
    """`command` as it is: its colons (casts, literals) are no bound parameters."""
    return text(command.replace(":", "\\:"))


def literal(value: Any) -> str:
    """`value` as an untyped SQL literal (EXECUTE takes no bound parameters): the
    prepared statement's own casts give it its type."""
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        value = "{" + ",".join(str(item) for item in value) + "}"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text.replace("'", "''") + "'"


def scans_of(plan: Any, table: str) -> list[tuple[str, str | None]]:
    """(node type, index) of every node of `plan` that reads `table`."""
    found = []
    if plan.get("Relation Name") == table:
        found.append((plan["Node Type"], plan.get("Index Name")))
    for child in plan.get("Plans", ()):
        found += scans_of(child, table)
    return found


@pytest.fixture
async def viewer_session(owner_engine: AsyncEngine, tenant: tuple[Made, list[uuid.UUID]]) -> Any:
    """A request's transaction as the tenant's staff member (the app role, its settings)."""
    session = DatabaseSession(owner_engine)
    user = await session.open_for_viewer(tenant[0].id)
    yield session, Scope(org_id=user.org_id, user_id=user.id, role=user.role)
    await session.close(commit=False)


async def test_a_lookup_by_id_probes_the_primary_key(
    viewer_session: Any, owner_engine: AsyncEngine, tenant: tuple[Made, list[uuid.UUID]]
) -> None:
    session, scope = viewer_session
    template, values = queries.by_ids_query(
        EngagementByIdLoader.model, EngagementByIdLoader.visible, scope, tenant[1]
    )
    plan = await generic_plan(session, owner_engine.dialect, template, values)
    assert scans_of(plan, "engagements") == [("Index Scan", "engagements_pkey")], plan


async def test_a_lookup_that_reads_a_page_along_probes_the_parents_primary_key(
    viewer_session: Any, owner_engine: AsyncEngine, tenant: tuple[Made, list[uuid.UUID]]
) -> None:
    session, scope = viewer_session
    spec = ProjectsByEngagementIdLoader.spec
    template, values = spec.page(
        scope, [tenant[1][0]], (), Window(limit=10), parent_visible=EngagementByIdLoader.visible
    )
    plan = await generic_plan(session, owner_engine.dialect, template, values)
    assert scans_of(plan, "engagements") == [("Index Scan", "engagements_pkey")], plan
