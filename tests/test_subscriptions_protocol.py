"""graphql-transport-ws details: idle keep-alive pings from the server, and the cap on
operations per connection."""

from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World
from tests.live_feed import post, servers, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed


@pytest.fixture(scope="module")
def tuned(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    environment = {
        "WEBSOCKET_KEEPALIVE_SECONDS": "0.2",
        "MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
        # One subscribe a minute after the burst of 2: a refusal must not wait its turn.
        "WEBSOCKET_SUBSCRIBE_RATE": str(1 / 60),
    }
    with servers(database_url, tmp_path_factory.mktemp("tuned"), 1, **environment) as running:
        yield running[0]


async def test_idle_connection_receives_keep_alive_pings(
    world: World, tuned: RunningServer
) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(tuned.graphql_url, token=feed.staff.token) as ws:
        first = await ws.next_control()
        second = await ws.next_control()  # answered with a pong by the client in between
    assert first == second == {"type": "ping"}


async def test_subscriptions_beyond_the_cap_are_refused_and_the_others_go_on(
    world: World, tuned: RunningServer
) -> None:
    """The refusal comes at once: a subscribe refused anyway does not wait for the pace."""
    feed = await thread(world)
    before = await subscriptions_started(tuned.url)
    async with (
        GraphQLWebSocket.open(tuned.graphql_url, token=feed.staff.token) as ws,
        httpx.AsyncClient(timeout=30) as http,
    ):
        first = await ws.feed(feed.conversation.gid)
        second = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(tuned.url, before + 2)
        refusal = await ws.next(await ws.feed(feed.conversation.gid))
        message_id = await post(
            GraphQLClient(http, tuned.graphql_url), feed.staff, feed.conversation, "still here"
        )
        received = [(await ws.event(first))["messageId"], (await ws.event(second))["messageId"]]
    assert refusal["type"] == "error"
    assert refusal["payload"][0]["message"] == "Subscription limit reached"
    assert refusal["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_REACHED"
    assert received == [message_id, message_id]


async def test_legacy_subprotocol_is_refused(tuned: RunningServer) -> None:
    url = tuned.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[Subprotocol("graphql-ws")]) as legacy:
        with pytest.raises(ConnectionClosed):
            await legacy.recv()
    assert (legacy.close_code, legacy.close_reason) == (4406, "Subprotocol not acceptable")
