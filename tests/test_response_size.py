"""What one answer may hold: objects repeated through ids, aliases or cycles repeat their
text in the answer, which the cost limit (objects) does not bound. A query whose answer's
JSON takes more than MAX_RESPONSE_BYTES is refused RESPONSE_TOO_LARGE; a mutation or
subscription that could exceed its limit is refused before it runs."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.models import Message
from engagement_api.json_levels import CHUNK_BYTES, json_over, json_size
from engagement_api.schema.ids import to_global_id
from engagement_api.settings import Settings
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
        MAX_RESPONSE_BYTES=str(LIMIT),
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
    if len(orjson.dumps({"nodes": [{"content": LONG}] * times})) <= LIMIT:
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


CONTROL = "\x01"
ESCAPED = CONTROL * 19_999
"""Each character of it is six bytes of JSON (\\u0001): 20,000 characters make 120 KB."""


@pytest.fixture(scope="module")
def exact_limit() -> int:
    """The bytes of three messages of `ESCAPED` and one ASCII letter, as `nodes` answers."""
    return len(orjson.dumps({"nodes": [{"content": f"{ESCAPED}x"}] * 3}))


@pytest.fixture(scope="module")
def exact_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, exact_limit: int
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url, tmp_path_factory, "exact", MAX_RESPONSE_BYTES=str(exact_limit)
    )


async def test_an_answer_of_exactly_the_limit_in_bytes_is_served_and_one_byte_more_refused(
    world: World, gql: GraphQLClient, exact_server: RunningServer
) -> None:
    """Characters are not bytes: the two answers hold as many characters, the second one
    more bytes (é is two in UTF-8), and control characters are six."""
    exact = GraphQLClient(gql.http, exact_server.graphql_url)
    feed = await thread(world)
    ascii_end = await post(exact, feed.staff, feed.conversation, f"{ESCAPED}x")
    two_bytes_end = await post(exact, feed.staff, feed.conversation, f"{ESCAPED}é")
    served = await exact.execute(REPEATED, {"ids": [ascii_end] * 3}, token=feed.staff.token)
    refused = await exact.execute(
        REPEATED, {"ids": [ascii_end, ascii_end, two_bytes_end]}, token=feed.staff.token
    )
    assert "errors" not in served, served.get("errors")
    assert served["data"] == {"nodes": [{"content": f"{ESCAPED}x"}] * 3}
    assert refused.get("data") is None
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["RESPONSE_TOO_LARGE"]


def _rss(server: RunningServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


async def test_a_small_request_repeating_an_escaped_message_is_refused_with_bounded_memory(
    world: World, gql: GraphQLClient, server: RunningServer
) -> None:
    """A 64 KB request (13 aliases of a thousand ids, cost 13,000) over one message of
    20,000 control characters: 1.56 GB of JSON, which was built and sent. Under the
    default limit it is counted up to the limit, never built."""
    feed = await thread(world)
    message = await post(gql, feed.staff, feed.conversation, CONTROL * 20_000)
    fields = " ".join(
        f"a{n}: nodes(ids: $ids) {{ ... on Message {{ content }} }}" for n in range(13)
    )
    document = f"query($ids: [ID!]!) {{ {fields} }}"
    before = peak = _rss(server)
    answer = asyncio.ensure_future(
        gql.execute(document, {"ids": [message] * 1_000}, token=feed.staff.token)
    )
    while not answer.done():
        peak = max(peak, _rss(server))
        await asyncio.sleep(0.01)
    body = answer.result()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]
    assert body["errors"][0]["extensions"]["limit"] == Settings().max_response_bytes
    assert peak - before < 64 * 1024 * 1024


def test_the_former_name_of_the_answer_limit_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_RESPONSE_CHARACTERS", "5000")
    assert Settings().max_response_bytes == 5000


texts = st.text(
    st.characters(blacklist_categories=["Cs"]) | st.sampled_from('"\\\x00\x01\x1f\x7féぁ😀'),
    max_size=40,
)
"""Text orjson can write (no lone surrogates), rich in what it escapes or writes wider."""
answers = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=40,
)


@given(answer=answers, limit=st.integers(0, 2_000))
def test_the_size_of_an_answer_is_the_length_of_its_json(answer: Any, limit: int) -> None:
    """Exactly, up to the limit; over it whenever the answer is (where it may stop)."""
    expected = len(orjson.dumps(answer))
    if expected <= limit:
        assert json_size(answer, limit) == expected
    else:
        assert json_size(answer, limit) > limit
    assert json_over(answer, limit) == (expected > limit)


@given(text=texts.filter(bool), repeat=st.integers(1, 1_000), times=st.integers(1, 60))
def test_the_size_of_a_long_text_repeated_is_counted_a_chunk_at_a_time(
    text: str, repeat: int, times: int
) -> None:
    """One long string referenced many times, as repeated ids make it: measured in chunks
    of about CHUNK_BYTES, with the same count as the whole answer's JSON."""
    answer = {"nodes": [{"content": text * repeat}] * times}
    expected = len(orjson.dumps(answer))
    assert json_size(answer, expected) == expected
    assert json_size(answer, expected - 1) > expected - 1
    if expected > 4 * CHUNK_BYTES:  # stops after a chunk or so past the limit
        assert json_size(answer, CHUNK_BYTES) < 3 * CHUNK_BYTES + 6 * len(text * repeat)


TEXTS = st.text(
    alphabet=st.sampled_from(["x", CONTROL, '"', "\\", "é", "\U0001f600", "\n"]),
    min_size=1,
    max_size=15,
)
ANSWERS = [
    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Message { content sender { name } } } }",
    """query($ids: [ID!]!, $c: ID!) { a: nodes(ids: $ids) { __typename ... on Message { id } }
      conversation(id: $c) { subject messages(first: 100) { edges { cursor node {
        content createdAt isInternal sender { name role } } } } } }""",
]
"""A planned answer's size is bounded from its levels: ids repeated, a connection's page."""


def _repeated(text: str, length: int) -> str:
    return ("x" + text * length)[:length]  # never blank


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    contents=st.lists(
        st.builds(_repeated, TEXTS, st.integers(2_000, 19_000)), min_size=1, max_size=6
    ),
    picks=st.lists(st.integers(0, 5), min_size=10, max_size=100),
    document=st.sampled_from(ANSWERS),
)
async def test_an_answer_is_refused_exactly_when_its_json_is_over_the_limit(
    world: World,
    gql: GraphQLClient,
    limited: GraphQLClient,
    contents: list[str],
    picks: list[int],
    document: str,
) -> None:
    """Whatever skips the measuring of an answer (the planned execution's bound) never lets
    one over the limit through: the same query is refused by the limited server exactly
    when its data, as answered under the default limit, is over LIMIT bytes."""
    feed = await thread(world)
    posted = [await post(gql, feed.staff, feed.conversation, text) for text in contents]
    variables = {"ids": [posted[n % len(posted)] for n in picks], "c": feed.conversation.gid}
    if "$c" not in document:
        del variables["c"]
    reference = await gql.execute(document, variables, token=feed.staff.token)
    assert "errors" not in reference, reference["errors"]
    over = len(orjson.dumps(reference["data"])) > LIMIT
    event("over the limit" if over else "under the limit")
    answered = await limited.execute(document, variables, token=feed.staff.token)
    codes = [error["extensions"]["code"] for error in answered.get("errors", ())]
    assert (codes, answered.get("data") is None) == (
        (["RESPONSE_TOO_LARGE"], True) if over else ([], False)
    )


TINY_LIMIT = 3_000


@pytest.fixture(scope="module")
def tiny_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "tiny", **TINY)


TINY = {"MAX_RESPONSE_BYTES": str(TINY_LIMIT)}


@pytest.mark.parametrize("missing", [1, 590, 597, 598, 599, 1_000])
async def test_null_items_of_a_list_count_toward_the_limit(
    world: World, gql: GraphQLClient, tiny_server: RunningServer, missing: int
) -> None:
    """Ids that find nothing are null items of `nodes`: five bytes each (`null` and a
    comma), which the answer's bound counts as the measure does."""
    feed = await thread(world)
    ids = [to_global_id("Message", uuid.uuid4()) for _ in range(missing)]
    tiny = GraphQLClient(gql.http, tiny_server.graphql_url)
    answered = await tiny.execute(REPEATED, {"ids": ids}, token=feed.staff.token)
    over = len(orjson.dumps({"nodes": [None] * missing})) > TINY_LIMIT
    codes = [error["extensions"]["code"] for error in answered.get("errors", ())]
    assert (codes, answered.get("data")) == (
        (["RESPONSE_TOO_LARGE"], None) if over else ([], {"nodes": [None] * missing})
    )
