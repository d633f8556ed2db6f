"""What each subscriber receives: POSTED, EDITED, DELETED events resolved with its own
permissions, and nothing for a write that did not commit."""

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import ConversationStatus, Role
from engagement_api.db.models import User
from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World
from tests.live_feed import DELETE, EDIT, POST, Thread, post, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed


async def _following(server: RunningServer, ws: GraphQLWebSocket, feed: Thread) -> str:
    before = await subscriptions_started(server.url)
    operation = await ws.feed(feed.conversation.gid)
    await wait_until_subscribed(server.url, before + 1)
    return operation


async def _edit(gql: GraphQLClient, token: str, message_id: str, content: str) -> None:
    variables: dict[str, Any] = {"input": {"id": message_id, "content": content}}
    data = await gql.data(EDIT, variables, token=token)
    assert data["editMessage"]["errors"] == [], data


async def _delete(gql: GraphQLClient, token: str, message_id: str) -> None:
    data = await gql.data(DELETE, {"input": {"id": message_id}}, token=token)
    assert data["deleteMessage"]["errors"] == [], data


async def test_edit_and_delete_reach_the_subscriber(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    message_id = await post(gql, feed.staff, feed.conversation, "draft")
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
        operation = await _following(server, ws, feed)
        await _edit(gql, feed.staff.token, message_id, "final")
        # Each event is resolved when delivered: an edit of a message deleted by then
        # is skipped (its DELETED follows), so the delete waits for the edit's event.
        edited = await ws.event(operation)
        await _delete(gql, feed.staff.token, message_id)
        deleted = await ws.event(operation)
    assert (edited["kind"], edited["messageId"]) == ("EDITED", message_id)
    assert edited["message"]["content"] == "final"
    assert deleted == {"kind": "DELETED", "messageId": message_id, "message": None}


async def test_client_receives_no_edit_or_delete_of_an_internal_message(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    internal_id = await post(gql, feed.staff, feed.conversation, "note", internal=True)
    public_id = await post(gql, feed.staff, feed.conversation, "public")
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
        operation = await _following(server, ws, feed)
        await _edit(gql, feed.staff.token, internal_id, "note, edited")
        await _delete(gql, feed.staff.token, internal_id)
        await _delete(gql, feed.staff.token, public_id)
        first = await ws.event(operation)
    assert (first["kind"], first["messageId"]) == ("DELETED", public_id)


async def test_refused_post_publishes_nothing(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    closed = await world.conversation(
        await world.engagement(feed.org, feed.client), status=ConversationStatus.CLOSED
    )
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        operation = await _following(server, ws, feed)
        # One document: the first post commits, the second is refused and rolled back.
        data = await gql.data(
            """mutation($ok: PostMessageInput!, $refused: PostMessageInput!) {
              ok: postMessage(input: $ok) { message { id } errors { code } }
              refused: postMessage(input: $refused) { message { id } errors { code } }
            }""",
            {
                "refused": {"conversationId": feed.conversation.gid, "content": "   "},
                "ok": {"conversationId": feed.conversation.gid, "content": "accepted"},
            },
            token=feed.staff.token,
        )
        assert data["refused"]["errors"][0]["code"] == "INVALID"
        refused_closed = await gql.data(
            POST,
            {"input": {"conversationId": closed.gid, "content": "too late"}},
            token=feed.staff.token,
        )
        assert refused_closed["postMessage"]["errors"][0]["code"] == "INVALID_TRANSITION"
        last_id = await post(gql, feed.staff, feed.conversation, "after the refusals")
        first = await ws.event(operation)
        second = await ws.event(operation)
    assert first["messageId"] == data["ok"]["message"]["id"]
    assert second["messageId"] == last_id


async def test_event_fields_resolve_with_the_subscribers_permissions(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
        before = await subscriptions_started(server.url)
        operation = await ws.subscribe(
            """subscription($id: ID!) { messageEvents(conversationId: $id) {
                 message { conversation { lastMessage { content } messages { totalCount } } }
               } }""",
            {"id": feed.conversation.gid},
        )
        await wait_until_subscribed(server.url, before + 1)
        await post(gql, feed.staff, feed.conversation, "hidden", internal=True)
        await post(gql, feed.staff, feed.conversation, "visible")
        event = await ws.event(operation)
    conversation = event["message"]["conversation"]
    assert conversation["lastMessage"]["content"] == "visible"
    assert conversation["messages"]["totalCount"] == 1


async def test_viewer_demoted_to_client_stops_receiving_internal_events(
    world: World, server: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    org = await world.organization()
    author = await world.user(org, Role.STAFF)
    demoted = await world.user(org, Role.STAFF)
    conversation = await world.conversation(await world.engagement(org, demoted))
    feed = Thread(org, author, demoted, conversation)
    internal_id = await post(gql, author, conversation, "note", internal=True)
    public_id = await post(gql, author, conversation, "public")
    async with GraphQLWebSocket.open(server.graphql_url, token=demoted.token) as ws:
        operation = await _following(server, ws, feed)
        async with owner_engine.begin() as connection:
            await connection.execute(
                update(User).where(User.id == demoted.id).values(role=Role.CLIENT)
            )
        await _delete(gql, author.token, internal_id)
        await _delete(gql, author.token, public_id)
        first = await ws.event(operation)
    assert (first["kind"], first["messageId"]) == ("DELETED", public_id)


async def test_a_viewer_who_no_longer_sees_the_conversation_is_told_at_the_next_event(
    world: World, server: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """A staff member demoted to CLIENT is not the engagement's client: the conversation
    is no longer theirs, and their subscription ends instead of going silent. The
    engagement's client, following the same conversation, goes on receiving."""
    feed = await thread(world)
    demoted = await world.user(feed.org, Role.STAFF)
    async with (
        GraphQLWebSocket.open(server.graphql_url, token=demoted.token) as ws,
        GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as client_ws,
    ):
        operation = await _following(server, ws, feed)
        client_operation = await _following(server, client_ws, feed)
        async with owner_engine.begin() as connection:
            await connection.execute(
                update(User).where(User.id == demoted.id).values(role=Role.CLIENT)
            )
        posted = await post(gql, feed.staff, feed.conversation, "not for the demoted")
        ending = await ws.next(operation)
        completion = await ws.next(operation)
        received = await client_ws.event(client_operation)
    assert ending["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in ending["payload"]["errors"]] == ["NOT_FOUND"]
    assert completion == {"id": operation, "type": "complete"}
    assert (received["kind"], received["messageId"]) == ("POSTED", posted)


@pytest.mark.parametrize("moved_subscribes_first", [True, False])
async def test_a_staff_member_moved_to_another_organization_ends_only_their_own_feed(
    world: World,
    server: RunningServer,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    moved_subscribes_first: bool,
) -> None:
    """The staff member who reads a batch for the organization's staff (the first to
    subscribe) may have left it: it then speaks for itself only, and the others, whose
    tokens hold, go on receiving."""
    feed = await thread(world)
    moved = await world.user(feed.org, Role.STAFF)
    stays = await world.user(feed.org, Role.STAFF)
    elsewhere = await world.organization()
    order = [moved, stays] if moved_subscribes_first else [stays, moved]
    async with (
        GraphQLWebSocket.open(server.graphql_url, token=order[0].token) as first_ws,
        GraphQLWebSocket.open(server.graphql_url, token=order[1].token) as second_ws,
        GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as client_ws,
    ):
        sockets = {order[0].id: first_ws, order[1].id: second_ws}
        operations = {user.id: await _following(server, sockets[user.id], feed) for user in order}
        client_operation = await _following(server, client_ws, feed)
        async with owner_engine.begin() as connection:
            await connection.execute(
                update(User).where(User.id == moved.id).values(org_id=elsewhere.id)
            )
        posted = await post(gql, feed.staff, feed.conversation, "for those still here")
        ending = await sockets[moved.id].next(operations[moved.id])
        completion = await sockets[moved.id].next(operations[moved.id])
        received = await sockets[stays.id].event(operations[stays.id])
        client_received = await client_ws.event(client_operation)
    assert ending["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in ending["payload"]["errors"]] == ["NOT_FOUND"]
    assert completion == {"id": operations[moved.id], "type": "complete"}
    assert (received["kind"], received["messageId"]) == ("POSTED", posted)
    assert (client_received["kind"], client_received["messageId"]) == ("POSTED", posted)
