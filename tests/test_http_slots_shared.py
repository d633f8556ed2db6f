"""On a real server: a client whose requests all wait (here on a row lock) holds all the
HTTP slots of a worker but one, and another client is answered meanwhile."""

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.databases import row_locked, until_waiting_on_locks
from tests.factories import World
from tests.live_feed import post, thread
from tests.raw_http import GUARD_SECONDS


@pytest.fixture(scope="module")
def two_slots(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "two-slots", HTTP_SLOTS_PER_WORKER="2")


async def test_a_client_whose_requests_all_wait_leaves_a_slot_to_another(
    world: World, gql: GraphQLClient, two_slots: RunningServer, owner_engine: AsyncEngine
) -> None:
    client = GraphQLClient(gql.http, two_slots.graphql_url)
    feed = await thread(world)
    async with row_locked(owner_engine, "conversations", feed.conversation.id) as held:
        stuck = [
            asyncio.create_task(post(client, feed.staff, feed.conversation, f"waits {n}"))
            for n in range(3)
        ]
        await until_waiting_on_locks(owner_engine, 1)
        await asyncio.sleep(0.3)  # the others have reached the server
        async with asyncio.timeout(GUARD_SECONDS / 2):
            answered = await client.data("{ viewer { user { id } } }", token=feed.client.token)
        assert not any(task.done() for task in stuck)
        await held.commit()
    await asyncio.gather(*stuck)
    assert answered == {"viewer": {"user": {"id": feed.client.gid}}}
