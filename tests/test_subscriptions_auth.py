"""Who may follow a conversation: credentials from `connection_init` or the upgrade
request, and the conversation's visibility, checked when the subscription starts."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from engagement_api.auth import mint_token
from engagement_api.db.enums import Role
from engagement_api.db.models import User
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import post, thread
from tests.raw_http import GUARD_SECONDS
from tests.ws_client import (
    PROTOCOL,
    GraphQLWebSocket,
    Message,
    subscriptions_started,
    wait_until_subscribed,
)


def error_code(message: Message) -> Any:
    assert message["type"] == "error", message
    return message["payload"][0]["extensions"]["code"]


async def test_subscription_without_credentials_is_refused_unauthenticated(
    world: World, server: RunningServer
) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(server.graphql_url) as ws:
        refusal = await ws.next(await ws.feed(feed.conversation.gid))
    assert error_code(refusal) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "document",
    ["subscription { nothing }", "subscription { " + "x " * 900 + "}", "{ viewer { role } }"],
    ids=["unknown-field", "costly-to-validate", "query"],
)
async def test_a_subscribe_without_credentials_is_refused_before_its_document_is_read(
    server: RunningServer, document: str
) -> None:
    """Whatever it asks, it is refused: validating its document first only spent CPU
    (a thousand repeated fields cost graphql-core's validation a tenth of a second)."""
    async with GraphQLWebSocket.open(server.graphql_url) as ws:
        refusal = await ws.next(await ws.subscribe(document))
    assert error_code(refusal) == "UNAUTHENTICATED"


async def test_invalid_token_in_connection_init_closes_the_connection_forbidden(
    server: RunningServer,
) -> None:
    async with GraphQLWebSocket.open(
        server.graphql_url, token="not-a-jwt", acknowledged=False
    ) as ws:
        assert await ws.closed() == (4403, "Forbidden")


async def test_token_of_unknown_user_closes_the_connection_forbidden(
    world: World, server: RunningServer
) -> None:
    token = mint_token(uuid.uuid4(), world.settings)
    async with GraphQLWebSocket.open(server.graphql_url, token=token, acknowledged=False) as ws:
        assert await ws.closed() == (4403, "Forbidden")


async def test_upgrade_request_authorization_header_authenticates(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, header_token=feed.client.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(server.url, before + 1)
        message_id = await post(gql, feed.staff, feed.conversation, "via header")
        assert (await ws.event(operation))["messageId"] == message_id


async def test_other_organizations_conversation_is_not_found(
    world: World, server: RunningServer
) -> None:
    feed = await thread(world)
    outsider = await world.user(await world.organization(), Role.ADMIN)
    async with GraphQLWebSocket.open(server.graphql_url, token=outsider.token) as ws:
        refusal = await ws.next(await ws.feed(feed.conversation.gid))
    assert error_code(refusal) == "NOT_FOUND"


async def test_another_clients_conversation_is_not_found_for_a_client(
    world: World, server: RunningServer
) -> None:
    feed = await thread(world)
    other_client = await world.user(feed.org, Role.CLIENT)
    async with GraphQLWebSocket.open(server.graphql_url, token=other_client.token) as ws:
        refusal = await ws.next(await ws.feed(feed.conversation.gid))
    assert error_code(refusal) == "NOT_FOUND"


async def test_malformed_conversation_id_is_not_found(world: World, server: RunningServer) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        refusal = await ws.next(await ws.feed("not-an-id"))
        wrong_type = await ws.next(await ws.feed(feed.staff.gid))
    assert error_code(refusal) == "NOT_FOUND"
    assert error_code(wrong_type) == "NOT_FOUND"


async def test_queries_over_websocket_are_refused(world: World, server: RunningServer) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        refusal = await ws.next(await ws.subscribe("{ viewer { role } }"))
    assert error_code(refusal) == "BAD_REQUEST"
    assert "Only subscriptions" in refusal["payload"][0]["message"]


async def test_an_empty_document_is_a_bad_request_as_over_http(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    over_http = await gql.execute("", token=feed.staff.token)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        refusal = await ws.next(await ws.subscribe(""))
        again = await ws.next(await ws.subscribe("{ viewer { role } }"))  # the socket goes on
    assert error_code(refusal) == over_http["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert refusal["payload"][0]["message"] == over_http["errors"][0]["message"]
    assert error_code(again) == "BAD_REQUEST"


async def test_subscription_ends_unauthenticated_when_its_viewer_is_gone(
    world: World, server: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    feed = await thread(world)
    leaving = await world.user(feed.org, Role.STAFF)
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=leaving.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(server.url, before + 1)
        async with owner_engine.begin() as connection:
            await connection.execute(delete(User).where(User.id == leaving.id))
        await post(gql, feed.staff, feed.conversation, "after the departure")
        ending = await ws.next(operation)
        completion = await ws.next(operation)
    assert ending["payload"]["data"] is None
    assert ending["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert completion == {"id": operation, "type": "complete"}


@pytest.fixture(scope="module")
def no_leeway(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "no_leeway", JWT_LEEWAY_SECONDS="0")


async def test_an_idle_subscription_ends_unauthenticated_when_its_token_expires(
    world: World, no_leeway: RunningServer
) -> None:
    """No event is needed: a subscription never outlives its token."""
    feed = await thread(world)
    lifetime = timedelta(seconds=3)
    token = mint_token(feed.client.id, world.settings, lifetime=lifetime)
    expiry = int(time.time() + lifetime.total_seconds())  # `exp` is in whole seconds
    before = await subscriptions_started(no_leeway.url)
    async with GraphQLWebSocket.open(no_leeway.graphql_url, token=token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(no_leeway.url, before + 1)
        ending = await ws.next(operation)
        ended_at = time.time()
        completion = await ws.next(operation)
    assert ended_at >= expiry
    assert ending["payload"]["data"] is None
    assert ending["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert completion == {"id": operation, "type": "complete"}


@pytest.fixture(scope="module")
def rechecking(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "recheck", LIVE_FEED_RECHECK_SECONDS="1")


DELETE_ENGAGEMENT = """mutation($input: DeleteInput!) {
  deleteEngagement(input: $input) { errors { code } }
}"""


async def test_idle_subscriptions_end_when_their_conversation_or_user_is_gone_without_events(
    world: World, rechecking: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """A conversation with no live message records no event when its engagement is
    deleted, and deleting a user records none: an idle subscription finds out by checking
    again (`LIVE_FEED_RECHECK_SECONDS`) and ends, instead of holding its slot until its
    token expires."""
    feed = await thread(world)
    admin = await world.user(feed.org, Role.ADMIN)
    leaving = await world.user(feed.org, Role.STAFF)
    other = await world.conversation(await world.engagement(feed.org, feed.client))
    before = await subscriptions_started(rechecking.url)
    async with (
        GraphQLWebSocket.open(rechecking.graphql_url, token=feed.staff.token) as staff_ws,
        GraphQLWebSocket.open(rechecking.graphql_url, token=leaving.token) as leaving_ws,
    ):
        staff_feed = await staff_ws.feed(feed.conversation.gid)
        leaving_feed = await leaving_ws.feed(other.gid)
        await wait_until_subscribed(rechecking.url, before + 2)
        engagement = await gql.data(
            "query($id: ID!) { conversation(id: $id) { engagement { id } } }",
            {"id": feed.conversation.gid},
            token=feed.staff.token,
        )
        deleted = await gql.data(
            DELETE_ENGAGEMENT,
            {"input": {"id": engagement["conversation"]["engagement"]["id"]}},
            token=admin.token,
        )
        async with owner_engine.begin() as connection:
            await connection.execute(delete(User).where(User.id == leaving.id))
        endings = [
            [await ws.next(operation), await ws.next(operation)]
            for ws, operation in ((staff_ws, staff_feed), (leaving_ws, leaving_feed))
        ]
    assert deleted["deleteEngagement"]["errors"] == []
    codes = [
        ([e["extensions"]["code"] for e in ending["payload"]["errors"]], completion["type"])
        for ending, completion in endings
    ]
    assert codes == [(["NOT_FOUND"], "complete"), (["UNAUTHENTICATED"], "complete")]


async def test_a_null_connection_init_payload_means_no_credentials(server: RunningServer) -> None:
    """graphql-ws allows `"payload": null`: the connection is acknowledged, as one
    without a payload is."""
    url = server.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[Subprotocol(PROTOCOL)]) as connection:
        await connection.send('{"type": "connection_init", "payload": null}')
        answer = await asyncio.wait_for(connection.recv(), GUARD_SECONDS)
    assert orjson.loads(answer) == {"type": "connection_ack"}


@pytest.fixture(scope="module")
def impatient_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url, tmp_path_factory, "anonymous", WEBSOCKET_ANONYMOUS_SECONDS="1"
    )


async def test_a_connection_without_credentials_is_closed_after_its_grace(
    world: World, impatient_server: RunningServer
) -> None:
    """It can only be refused subscriptions: idle, it would hold one of the worker's
    connections for ever. A connection with credentials and no subscription stays."""
    feed = await thread(world)
    url = impatient_server.graphql_url
    async with (
        GraphQLWebSocket.open(url) as anonymous,
        GraphQLWebSocket.open(url, token=feed.staff.token) as signed_in,
    ):
        refusal = await anonymous.next(await anonymous.feed(feed.conversation.gid))
        assert error_code(refusal) == "UNAUTHENTICATED"
        assert await anonymous.closed() == (4401, "No credentials in 1 s")
        await signed_in.send({"type": "ping"})
        assert await signed_in.next_control() == {"type": "pong"}
