"""startConversation and setConversationStatus through the API, checked in the database."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import ConversationStatus, EngagementStatus
from engagement_api.db.models import Conversation, Message
from engagement_api.schema.ids import parse_global_id
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, World
from tests.mutations import cast, codes, count_where, error_fields, mutate, rows_where, stored

CONVERSATION = (
    "conversation { id subject status lastMessageAt lastMessage { content sender { id } } }"
)


async def test_starting_a_conversation_without_a_message(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": c.engagement.gid, "subject": " Kickoff "},
        token=c.staff.token,
        select=CONVERSATION,
    )
    conversation_id = parse_global_id(payload["conversation"]["id"], "Conversation")
    assert conversation_id is not None
    row = await stored(owner_engine, Conversation, conversation_id)
    assert (row.engagement_id, row.org_id, row.subject, row.status) == (
        c.engagement.id,
        c.org.id,
        "Kickoff",
        ConversationStatus.OPEN,
    )
    assert (row.last_message_at, row.last_public_message_at) == (None, None)
    assert await count_where(owner_engine, Message, Message.conversation_id == conversation_id) == 0


async def test_a_first_message_is_posted_with_the_conversation(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": c.engagement.gid, "content": " Hello "},
        token=c.client.token,
        select=CONVERSATION,
    )
    assert payload["conversation"]["lastMessage"] == {
        "content": "Hello",
        "sender": {"id": c.client.gid},
    }
    conversation_id = parse_global_id(payload["conversation"]["id"], "Conversation")
    assert conversation_id is not None
    row = await stored(owner_engine, Conversation, conversation_id)
    (message,) = await rows_where(owner_engine, Message, Message.conversation_id == row.id)
    assert (message.content, message.sender_id, message.is_internal) == (
        "Hello",
        c.client.id,
        False,
    )
    assert row.last_message_at == row.last_public_message_at == message.created_at
    assert row.updated_at == row.created_at


async def test_a_conversation_with_an_invalid_first_message_is_not_started(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": c.engagement.gid, "subject": "Hi", "content": "   "},
        token=c.staff.token,
        select=CONVERSATION,
    )
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [["input", "content"]])
    assert (
        await count_where(owner_engine, Conversation, Conversation.engagement_id == c.engagement.id)
        == 0
    )


async def test_a_client_cannot_start_a_conversation_on_another_clients_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": c.engagement.gid, "subject": "Hi"},
        token=c.other_client.token,
        select=CONVERSATION,
    )
    assert (codes(payload), error_fields(payload)) == (["NOT_FOUND"], [["input", "engagementId"]])
    assert (
        await count_where(owner_engine, Conversation, Conversation.engagement_id == c.engagement.id)
        == 0
    )


async def test_a_client_cannot_start_a_conversation_on_its_paused_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    paused = await world.engagement(c.org, c.client, EngagementStatus.PAUSED)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": paused.gid},
        token=c.client.token,
        select=CONVERSATION,
    )
    assert codes(payload) == ["FORBIDDEN"]
    assert (
        await count_where(owner_engine, Conversation, Conversation.engagement_id == paused.id) == 0
    )


async def test_staff_starts_a_conversation_on_a_paused_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    paused = await world.engagement(c.org, c.client, EngagementStatus.PAUSED)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": paused.gid},
        token=c.staff.token,
        select=CONVERSATION,
    )
    assert payload["errors"] == []
    assert (
        await count_where(owner_engine, Conversation, Conversation.engagement_id == paused.id) == 1
    )


@pytest.mark.parametrize("role", ["staff", "client"])
async def test_starting_a_conversation_in_a_closed_engagement_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, role: str
) -> None:
    c = await cast(world)
    closed = await world.engagement(c.org, c.client, EngagementStatus.CLOSED, closed_at=BASE_TIME)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": closed.gid, "content": "Hi"},
        token=getattr(c, role).token,
        select=CONVERSATION,
    )
    assert codes(payload) == ["INVALID_TRANSITION"]
    assert (
        await count_where(owner_engine, Conversation, Conversation.engagement_id == closed.id) == 0
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ConversationStatus.OPEN, ConversationStatus.CLOSED),
        (ConversationStatus.CLOSED, ConversationStatus.OPEN),
    ],
)
async def test_staff_close_and_reopen_a_conversation(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    current: ConversationStatus,
    target: ConversationStatus,
) -> None:
    c = await cast(world)
    conversation = await world.conversation(c.engagement, current)
    before = await stored(owner_engine, Conversation, conversation.id)
    payload = await mutate(
        gql,
        "setConversationStatus",
        {"id": conversation.gid, "status": target.name},
        token=c.staff.token,
        select=CONVERSATION,
    )
    assert payload["conversation"]["status"] == target.name
    after = await stored(owner_engine, Conversation, conversation.id)
    assert after.status is target
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize("status", list(ConversationStatus))
async def test_setting_a_conversations_current_status_is_a_no_op(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, status: ConversationStatus
) -> None:
    c = await cast(world)
    conversation = await world.conversation(c.engagement, status)
    before = await stored(owner_engine, Conversation, conversation.id)
    payload = await mutate(
        gql,
        "setConversationStatus",
        {"id": conversation.gid, "status": status.name},
        token=c.staff.token,
        select=CONVERSATION,
    )
    assert payload["errors"] == []
    assert await stored(owner_engine, Conversation, conversation.id) == before


async def test_a_client_cannot_close_a_conversation(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await world.conversation(c.engagement)
    payload = await mutate(
        gql,
        "setConversationStatus",
        {"id": conversation.gid, "status": "CLOSED"},
        token=c.client.token,
        select=CONVERSATION,
    )
    assert codes(payload) == ["FORBIDDEN"]
    after = await stored(owner_engine, Conversation, conversation.id)
    assert after.status is ConversationStatus.OPEN
