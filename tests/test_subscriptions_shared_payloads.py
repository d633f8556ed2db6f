"""An audience's shared payload against per-subscriber execution.

Two servers on one database: one shares each event's result among the subscribers of an
audience and writes each subscription's events after its first straight to the socket
(the defaults), the other executes every subscriber's selection on its own, each event
through Strawberry's per-result stream and graphql-core's executor
(`LIVE_FEED_SHARED_PAYLOADS=false`, `LIVE_FEED_DIRECT_FRAMES=false`, `EXECUTION=stock`),
the reference. Generated selections, viewers and
posts: every subscription, on both servers, must receive byte-identical `next` payloads
(only the subscription id differs), and the subscribers of an audience that share a
document and variables must receive the same bytes.
"""

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, start_server, stop_server
from tests.factories import Made, World
from tests.live_feed import post
from tests.ws_client import GUARD_SECONDS, PROTOCOL, wait_until_subscribed

# Pieces of a `messageEvents` selection; each drawn selection is a non-empty subset.
SENDER = ["id", "name", "email", "role", "__typename"]
LAST = ["id", "content", "isInternal", "createdAt"]
MESSAGE = [
    "id",
    "content",
    "isInternal",
    "createdAt",
    "updatedAt",
    "attachments { url }",
    "sender { %s }",
    "conversation { id subject lastMessageAt lastMessage { %s } }",
    "conversation { messages(last: $n) { totalCount edges { node { id isInternal } } } }",
    "conversation { all: messages { totalCount } }",
    "... on Message { first: content }",
]
EVENT = ["kind", "messageId", "cursor", "__typename", "message { %s }"]


def _fill(piece: str, inner: list[str]) -> str:
    return piece % " ".join(inner) if "%s" in piece else piece


@st.composite
def selections(draw: st.DrawFn) -> str:
    sender = draw(st.lists(st.sampled_from(SENDER), min_size=1, max_size=3, unique=True))
    last = draw(st.lists(st.sampled_from(LAST), min_size=1, max_size=3, unique=True))
    pieces = draw(st.lists(st.sampled_from(MESSAGE), min_size=1, max_size=4, unique=True))
    message = [_fill(p, sender if p.startswith("sender") else last) for p in pieces]
    event = draw(st.lists(st.sampled_from(EVENT), min_size=1, max_size=4, unique=True))
    body = " ".join(_fill(p, message) for p in event)
    variables = "$id: ID!, $n: Int" if "$n" in body else "$id: ID!"
    return f"subscription Feed({variables}) {{ messageEvents(conversationId: $id) {{ {body} }} }}"


@dataclass(frozen=True)
class Subscription:
    viewer: int
    """Index into (STAFF, ADMIN, CLIENT)."""
    document: int
    n: int


@dataclass(frozen=True)
class Scenario:
    documents: list[str]
    subscriptions: list[Subscription]
    posts: list[tuple[int, bool]]
    """(author: 0 staff, 2 client; internal)."""


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    documents = draw(st.lists(selections(), min_size=1, max_size=2))
    drawn = st.builds(
        Subscription,
        st.integers(0, 2),
        st.integers(0, len(documents) - 1),
        st.sampled_from([1, 2]),
    )
    # Staff and the client always share the first document: what differs between the
    # audiences must not cross from one to the other.
    subscriptions = [Subscription(0, 0, 2), Subscription(2, 0, 2)]
    subscriptions += draw(st.lists(drawn, max_size=5))
    post = st.one_of(st.tuples(st.just(0), st.booleans()), st.just((2, False)))
    # An internal note first: the staff's view of the conversation differs from then on.
    posts = [(0, True), *draw(st.lists(post, min_size=1, max_size=3))]
    return Scenario(documents, subscriptions, posts)


@dataclass
class RawSocket:
    """A graphql-transport-ws connection keeping each operation's frames as received."""

    connection: ClientConnection
    frames: dict[str, asyncio.Queue[str]] = field(
        default_factory=lambda: defaultdict(asyncio.Queue)
    )
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def read(self) -> None:
        async for raw in self.connection:
            text = raw if isinstance(raw, str) else raw.decode()
            message = orjson.loads(text)
            if "id" in message:
                self.frames[message["id"]].put_nowait(text)
            elif message["type"] == "ping":
                await self.connection.send('{"type":"pong"}')

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        operation_id = f"op{next(self.ids)}"
        message = {
            "id": operation_id,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }
        await self.connection.send(orjson.dumps(message).decode())
        return operation_id

    async def payload(self, operation_id: str) -> str:
        """The next frame of the operation, a `next`, without its id: the payload's bytes."""
        text = await asyncio.wait_for(self.frames[operation_id].get(), GUARD_SECONDS)
        prefix = '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'
        assert text.startswith(prefix), text
        return text[len(prefix) : -1]


@asynccontextmanager
async def raw_socket(server: RunningServer, token: str) -> AsyncIterator[RawSocket]:
    url = server.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await connection.send(orjson.dumps(init).decode())
        ack = orjson.loads(await asyncio.wait_for(connection.recv(), GUARD_SECONDS))
        assert ack["type"] == "connection_ack", ack
        socket = RawSocket(connection)
        reader = asyncio.create_task(socket.read())
        try:
            yield socket
        finally:
            reader.cancel()


@dataclass(frozen=True)
class Pair:
    shared: RunningServer
    reference: RunningServer


@pytest.fixture(scope="module")
def pair(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("shared_payloads")
    shared = start_server(database_url, str(directory / "shared.log"))
    try:
        reference = start_server(
            database_url,
            str(directory / "reference.log"),
            LIVE_FEED_SHARED_PAYLOADS="false",
            LIVE_FEED_DIRECT_FRAMES="false",
            EXECUTION="stock",
        )
    except BaseException:
        stop_server(shared)
        raise
    yield Pair(shared, reference)
    stop_server(reference)
    stop_server(shared)


async def _health(server: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        live: dict[str, Any] = (await http.get(f"{server.url}/healthz")).json()["liveFeed"]
    return live


@dataclass(frozen=True)
class People:
    viewers: tuple[Made, Made, Made]
    """STAFF, ADMIN, CLIENT."""
    conversation: Made


async def _people(world: World) -> People:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    admin = await world.user(org, Role.ADMIN)
    client = await world.user(org, Role.CLIENT)
    conversation = await world.conversation(await world.engagement(org, client), subject="Shared")
    return People((staff, admin, client), conversation)


async def _run(
    pair: Pair, gql: GraphQLClient, people: People, scenario: Scenario
) -> dict[tuple[str, int], list[str]]:
    """Every payload each subscription received, by (server, subscription index); each post
    waits for all its deliveries, so every event resolves against the same state."""
    received: dict[tuple[str, int], list[str]] = defaultdict(list)
    async with AsyncExitStack() as stack:
        operations: list[tuple[str, int, RawSocket, str]] = []
        for name, server in (("shared", pair.shared), ("reference", pair.reference)):
            before = int((await _health(server))["subscriptionsStarted"])
            for index, sub in enumerate(scenario.subscriptions):
                token = people.viewers[sub.viewer].token
                socket = await stack.enter_async_context(raw_socket(server, token))
                document = scenario.documents[sub.document]
                variables: dict[str, Any] = {"id": people.conversation.gid}
                if "$n" in document:
                    variables["n"] = sub.n
                operation = await socket.subscribe(document, variables)
                operations.append((name, index, socket, operation))
            await wait_until_subscribed(server.url, before + len(scenario.subscriptions))
        for number, (author, internal) in enumerate(scenario.posts):
            await post(
                gql, people.viewers[author], people.conversation, f"m{number}", internal=internal
            )
            for name, index, socket, operation in operations:
                if internal and scenario.subscriptions[index].viewer == 2:
                    continue  # a CLIENT receives no event of an internal message
                received[(name, index)].append(await socket.payload(operation))
        for _, _, socket, operation in operations:
            assert socket.frames[operation].empty(), "an event nobody expected"
    return received


# Without shrinking: each example starts servers' subscriptions and posts.
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
@given(scenario=scenarios())
async def test_shared_payloads_equal_per_subscriber_execution(
    pair: Pair, gql: GraphQLClient, world: World, scenario: Scenario
) -> None:
    people = await _people(world)
    before = await _health(pair.shared)
    received = await _run(pair, gql, people, scenario)
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for index, sub in enumerate(scenario.subscriptions):
        assert received[("shared", index)] == received[("reference", index)]
        # Audiences: the organization's staff (STAFF and ADMIN), or the CLIENT.
        groups[(sub.viewer == 2, sub.document, sub.n)].append(index)
    for members in groups.values():
        assert len({tuple(received[("shared", i)]) for i in members}) == 1
    reference = await _health(pair.reference)
    assert (reference["sharedResults"], reference["sharedEncodings"]) == (0, 0)
    assert reference["directFrames"] == 0
    # Each visible post reaches every member of a group but the first from the shared
    # result, and its encoding.
    after = await _health(pair.shared)
    shares = sum(len(members) - 1 for members in groups.values())
    shares *= sum(1 for _, internal in scenario.posts if not internal)
    assert after["sharedResults"] - before["sharedResults"] >= shares
    assert after["sharedEncodings"] - before["sharedEncodings"] >= shares
    # Every subscription's events after its first are written by its frame sink.
    visible = [
        sum(1 for _, internal in scenario.posts if not (internal and sub.viewer == 2))
        for sub in scenario.subscriptions
    ]
    assert after["directFrames"] - before["directFrames"] == sum(
        max(0, count - 1) for count in visible
    )


async def test_a_client_never_receives_staff_results_through_the_shared_path(
    pair: Pair, gql: GraphQLClient, world: World
) -> None:
    """Staff and client with one document that reads the newest message each may see: the
    staff's is the internal note, the client's never is."""
    people = await _people(world)
    staff, _, client = people.viewers
    document = """subscription Feed($id: ID!) { messageEvents(conversationId: $id) {
      messageId message { content isInternal
        conversation { lastMessage { content isInternal } messages { totalCount } } } } }"""
    variables = {"id": people.conversation.gid}
    async with (
        raw_socket(pair.shared, staff.token) as staff_ws,
        raw_socket(pair.shared, client.token) as client_ws,
    ):
        before = int((await _health(pair.shared))["subscriptionsStarted"])
        staff_ops = [await staff_ws.subscribe(document, variables) for _ in range(3)]
        client_ops = [await client_ws.subscribe(document, variables) for _ in range(3)]
        await wait_until_subscribed(pair.shared.url, before + 6)
        await post(gql, staff, people.conversation, "visible")
        staff_first = [await staff_ws.payload(op) for op in staff_ops]
        client_first = [await client_ws.payload(op) for op in client_ops]
        await post(gql, staff, people.conversation, "secret note", internal=True)
        staff_second = [await staff_ws.payload(op) for op in staff_ops]
        await post(gql, client, people.conversation, "client reply")
        staff_third = [await staff_ws.payload(op) for op in staff_ops]
        client_third = [await client_ws.payload(op) for op in client_ops]
    assert "secret note" in staff_second[0]
    for payload in client_first + client_third:
        assert "secret note" not in payload
        assert orjson.loads(payload)["data"]["messageEvents"]["message"]["isInternal"] is False
    seen = orjson.loads(client_third[0])["data"]["messageEvents"]["message"]["conversation"]
    assert seen["lastMessage"] == {"content": "client reply", "isInternal": False}
    assert seen["messages"]["totalCount"] == 2  # the staff's count includes the note
    staff_seen = orjson.loads(staff_third[0])["data"]["messageEvents"]["message"]["conversation"]
    assert staff_seen["messages"]["totalCount"] == 3
    for payloads in (staff_first, client_first, staff_second, staff_third, client_third):
        assert len(set(payloads)) == 1
    # The first post: the newest message either may see is the same one.
    assert staff_first[0] == client_first[0]
