"""What one answer may hold: objects repeated through ids, aliases or cycles repeat their
text in the answer, which the cost limit (objects) does not bound. A query whose answer
holds more than MAX_RESPONSE_CHARACTERS characters of text is refused RESPONSE_TOO_LARGE; a
mutation or subscription that could exceed its limit is refused before it runs."""

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.models import Message
from engagement_api.json_levels import text_size
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import Thread, post, thread
from tests.mutations import count_where
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed

LIMIT = 200_000
EVENT_LIMIT = 50_000
LONG = "x" * 20_000


@pytest.fixture(scope="module")
def limited_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "limited",
        MAX_RESPONSE_CHARACTERS=str(LIMIT),
        MAX_EVENT_CHARACTERS=str(EVENT_LIMIT),
    )


@pytest.fixture
def limited(gql: GraphQLClient, limited_server: RunningServer) -> GraphQLClient:
    return GraphQLClient(gql.http, limited_server.graphql_url)


REPEATED = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Message { content } } }"


@pytest.mark.parametrize("times", [5, 9, 11, 400])
async def test_a_query_is_answered_up_to_the_limit_and_refused_beyond_it(
    world: World, limited: GraphQLClient, times: int
) -> None:
    """One long message asked for again and again: each copy is in the answer."""
    feed = await thread(world)
    message = await post(limited, feed.staff, feed.conversation, LONG)
    variables = {"ids": [message] * times}
    body = await limited.execute(REPEATED, variables, token=feed.staff.token)
    if times * len(LONG) <= LIMIT:
        assert "errors" not in body, body.get("errors")
        assert [node["content"] for node in body["data"]["nodes"]] == [LONG] * times
    else:
        assert body.get("data") is None
        assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]


async def test_every_long_text_counts_a_projects_description_too(
    world: World, limited: GraphQLClient
) -> None:
    feed = await thread(world)
    engagement = await world.engagement(feed.org, feed.client)
    project = await world.project(engagement, description=LONG)
    document = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Project { description } } }"
    body = await limited.execute(document, {"ids": [project.gid] * 11}, token=feed.staff.token)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]


async def test_a_cycle_through_a_thread_is_refused_when_its_answer_is_too_large(
    world: World, limited: GraphQLClient
) -> None:
    feed = await thread(world)
    for n in range(4):  # each of them, under each of them: 16 copies, 320,000 characters
        await post(limited, feed.staff, feed.conversation, f"{n}{LONG[1:]}")
    cycle = """query($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node {
      conversation { messages(first: 10) { edges { node { content } } } } } } } } }"""
    body = await limited.execute(cycle, {"id": feed.conversation.gid}, token=feed.staff.token)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]


async def test_long_aliases_count_where_they_repeat(world: World, limited: GraphQLClient) -> None:
    """A key is in the answer once per object: an alias of 1,000 characters on a hundred
    objects is 100,000 characters, however short their values."""
    feed = await thread(world)
    message = await post(limited, feed.staff, feed.conversation, "short")
    alias = "a" * 1_000
    document = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {alias}: id b{alias}: id }} }}"
    body = await limited.execute(document, {"ids": [message] * 101}, token=feed.staff.token)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]


async def test_a_mutation_whose_payload_could_be_too_large_writes_nothing(
    world: World, limited: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    feed = await thread(world)
    document = """mutation($input: PostMessageInput!) { postMessage(input: $input) {
      message { conversation { messages(first: 100) { edges { node { content } } } } } } }"""
    variables = {"input": {"conversationId": feed.conversation.gid, "content": "kept?"}}
    body = await limited.execute(document, variables, token=feed.staff.token)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]
    assert (
        await count_where(owner_engine, Message, Message.conversation_id == feed.conversation.id)
        == 0
    )


async def test_a_subscription_whose_events_could_be_too_large_is_refused_at_once(
    world: World, limited_server: RunningServer, limited: GraphQLClient
) -> None:
    feed: Thread = await thread(world)
    heavy = """subscription($id: ID!) { messageEvents(conversationId: $id) { message {
      conversation { messages(first: 10) { edges { node { content } } } } } } }"""
    light = "subscription($id: ID!) { messageEvents(conversationId: $id) { message { content } } }"
    async with GraphQLWebSocket.open(limited_server.graphql_url, token=feed.staff.token) as ws:
        refused = await ws.next(await ws.subscribe(heavy, {"id": feed.conversation.gid}))
        before = await subscriptions_started(limited_server.url)
        accepted = await ws.subscribe(light, {"id": feed.conversation.gid})
        await wait_until_subscribed(limited_server.url, before + 1)
        await post(limited, feed.staff, feed.conversation, "delivered")
        event = await ws.event(accepted)
    assert refused["type"] == "error"
    assert [error["extensions"]["code"] for error in refused["payload"]] == ["RESPONSE_TOO_LARGE"]
    assert event == {"message": {"content": "delivered"}}


def _reference(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(key) + _reference(item) for key, item in value.items())
    if isinstance(value, list):
        return sum(_reference(item) for item in value)
    return 0


answers = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=9), inner),
    max_leaves=40,
)


@given(answer=answers, limit=st.integers(0, 300))
def test_the_text_of_an_answer_is_what_a_plain_recursive_count_finds(
    answer: Any, limit: int
) -> None:
    """Exactly, up to the limit; over it whenever the answer is (where it may stop)."""
    expected = _reference(answer)
    if expected <= limit:
        assert text_size(answer, limit) == expected
    else:
        assert text_size(answer, limit) > limit
