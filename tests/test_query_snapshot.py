"""A query reads one snapshot: a write committed while the query runs shows in none of
its levels. The test holds an exclusive lock on `orders` with a new order uncommitted,
lets a query (viewer, then the engagement with its orders) reach the orders and wait
for the lock, then commits. Under READ COMMITTED the orders statement, which takes its
snapshot once the lock is granted, would show the new order."""

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.context import RequestContext, new_request_id
from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import World

DETAIL = """
query Detail($id: ID!) {
  engagement(id: $id) { id orders(first: 50) { edges { node { id } } } }
}
"""


async def _waiting_on(driver: Any, table: str) -> bool:
    waiting = await driver.fetchval(
        "SELECT count(*) FROM pg_locks WHERE relation = $1::regclass AND NOT granted", table
    )
    return bool(waiting)


async def test_a_write_committed_while_a_query_runs_is_not_in_its_answer(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    before = await world.order(org, client, engagement)

    async with owner_engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        await driver.execute("BEGIN")
        await driver.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        await driver.execute(
            "INSERT INTO orders (id, org_id, client_id, engagement_id, status, amount_cents,"
            " currency) SELECT $1, org_id, client_id, engagement_id, status, amount_cents,"
            " currency FROM orders WHERE id = $2",
            uuid.uuid4(),
            before.id,
        )
        answer = asyncio.ensure_future(gql.data(DETAIL, {"id": engagement.gid}, token=staff.token))
        async with asyncio.timeout(20):
            while not await _waiting_on(driver, "orders"):
                assert not answer.done(), answer.result()
                await asyncio.sleep(0.02)
        await driver.execute("COMMIT")
        data = await answer

    orders = [edge["node"]["id"] for edge in data["engagement"]["orders"]["edges"]]
    assert orders == [before.gid]
    again = await gql.data(DETAIL, {"id": engagement.gid}, token=staff.token)
    assert len(again["engagement"]["orders"]["edges"]) == 2


async def test_a_subscription_events_scope_reads_one_snapshot(
    world: World, owner_engine: AsyncEngine
) -> None:
    """A subscription event (and its audience) is resolved in a scope of its own, which
    only reads: its statements see one snapshot, as a query's do, and may not write."""
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    operation = RequestContext(
        settings=world.settings,
        engine=owner_engine,
        request_id=new_request_id(),
        token=staff.token,
    )
    event = operation.fresh_scope()
    try:
        await event.viewer()
        rows = await event.db.fetch(
            select(
                func.current_setting("transaction_isolation"),
                func.current_setting("transaction_read_only"),
            )
        )
    finally:
        await event.close(commit=False)
    assert tuple(rows[0]) == ("repeatable read", "on")
