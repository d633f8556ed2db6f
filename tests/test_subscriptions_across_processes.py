"""The live feed across server processes, for each backend: subscribe through one process
with a real graphql-transport-ws client, post through another with `postMessage`."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World
from tests.live_feed import backend_environment, post, servers, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed


@pytest.fixture(scope="module", params=["postgres", "redis"])
def pair(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[RunningServer]]:
    directory = tmp_path_factory.mktemp(f"pair-{request.param}")
    with servers(database_url, directory, 2, **backend_environment(request.param)) as running:
        for server in running:
            live_feed = httpx.get(f"{server.url}/healthz").json()["liveFeed"]
            assert live_feed["backend"] == request.param
            assert live_feed["listening"] is True
        yield running


@pytest.fixture
async def poster(pair: list[RunningServer]) -> AsyncIterator[GraphQLClient]:
    """GraphQL over HTTP to the second process."""
    async with httpx.AsyncClient(timeout=30) as http:
        yield GraphQLClient(http, pair[1].graphql_url)


async def test_post_through_one_process_reaches_subscriber_on_another(
    world: World, pair: list[RunningServer], poster: GraphQLClient
) -> None:
    feed = await thread(world)
    listener = pair[0]
    before = await subscriptions_started(listener.url)
    async with GraphQLWebSocket.open(listener.graphql_url, token=feed.staff.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(listener.url, before + 1)
        message_id = await post(poster, feed.client, feed.conversation, "Hello from B")
        event = await ws.event(operation)
    assert event["kind"] == "POSTED"
    assert event["messageId"] == message_id
    assert event["message"]["content"] == "Hello from B"
    assert event["message"]["sender"]["id"] == feed.client.gid


async def test_client_subscriber_receives_public_event_and_not_internal_one(
    world: World, pair: list[RunningServer], poster: GraphQLClient
) -> None:
    feed = await thread(world)
    listener = pair[0]
    before = await subscriptions_started(listener.url)
    async with GraphQLWebSocket.open(listener.graphql_url, token=feed.client.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(listener.url, before + 1)
        await post(poster, feed.staff, feed.conversation, "staff only", internal=True)
        public_id = await post(poster, feed.staff, feed.conversation, "for the client")
        event = await ws.event(operation)
    # Events arrive in commit order: the internal one, had it been sent, would come first.
    assert event["messageId"] == public_id
    assert event["message"]["isInternal"] is False


async def test_staff_subscriber_receives_internal_events_too(
    world: World, pair: list[RunningServer], poster: GraphQLClient
) -> None:
    feed = await thread(world)
    listener = pair[0]
    before = await subscriptions_started(listener.url)
    async with GraphQLWebSocket.open(listener.graphql_url, token=feed.staff.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(listener.url, before + 1)
        internal_id = await post(poster, feed.staff, feed.conversation, "note", internal=True)
        event = await ws.event(operation)
    assert event["messageId"] == internal_id
    assert event["message"]["isInternal"] is True
