"""The feed survives its listening connection: when it is cut, the process reconnects,
reads from the outbox what was committed meanwhile, and the same subscriptions receive
every event, in order, with no gap and no notice. A subscriber that falls behind is
closed without holding up others."""

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.broadcast.base import SENDING
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import REDIS_URL, backend_environment, post, servers, thread
from tests.private_redis import redis_of_its_own
from tests.raw_http import GUARD_SECONDS
from tests.ws_client import (
    GraphQLWebSocket,
    errors_logged,
    live_subscriptions,
    subscriptions_started,
    until_no_subscriptions,
    wait_until_subscribed,
)


@pytest.fixture(scope="module", params=["postgres", "redis"])
def solo(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RunningServer]]:
    directory = tmp_path_factory.mktemp(f"solo-{request.param}")
    environment = {
        **backend_environment(request.param),
        "SUBSCRIPTION_QUEUE_SIZE": "2",
        "LIVE_FEED_BEHIND_SECONDS": "1",
        # No periodic sweep: only the reconnection may recover what the cut dropped.
        "LIVE_FEED_SWEEP_SECONDS": "3600",
    }
    with servers(database_url, directory, 1, **environment) as running:
        yield request.param, running[0]


@pytest.fixture
async def solo_gql(solo: tuple[str, RunningServer]) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield GraphQLClient(http, solo[1].graphql_url)


async def _cut_listener(backend: str, server: RunningServer, owner_engine: AsyncEngine) -> None:
    """Kill the server's listening connection from the outside."""
    pid = server.process.pid
    if backend == "postgres":
        async with owner_engine.connect() as connection:
            killed = (
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = :name"
                    ),
                    {"name": f"engagement-api-listener {pid}"},
                )
            ).all()
        assert killed == [(True,)]
        return
    client = aioredis.from_url(REDIS_URL)
    try:
        clients = await client.client_list()
        (listener,) = [c for c in clients if c["name"] == f"engagement-api-listener-{pid}"]
        assert await client.client_kill_filter(_id=listener["id"]) == 1
    finally:
        await client.aclose()


def _live_feed(server: RunningServer) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{server.url}/healthz").json()["liveFeed"]
    return body


async def test_cut_listener_reconnects_and_replays_what_was_committed_meanwhile(
    world: World,
    solo: tuple[str, RunningServer],
    solo_gql: GraphQLClient,
    owner_engine: AsyncEngine,
) -> None:
    backend, server = solo
    feed = await thread(world)
    connections_before = _live_feed(server)["connections"]
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(server.url, before + 1)
        await _cut_listener(backend, server, owner_engine)
        # Committed while the listener reconnects (its first retry waits 50-100 ms): the
        # announcement goes to nobody on this process.
        during = await post(solo_gql, feed.staff, feed.conversation, "during the cut")
        # Nothing else is posted until it arrives: no later announcement can carry it.
        received = [await ws.event(operation)]
        after = await post(solo_gql, feed.staff, feed.conversation, "after the cut")
        received.append(await ws.event(operation))
    assert [event["messageId"] for event in received] == [during, after]
    assert _live_feed(server)["connections"] == connections_before + 1


async def test_a_subscriber_that_reads_gets_a_commit_of_more_events_than_its_queue(
    world: World, solo: tuple[str, RunningServer], solo_gql: GraphQLClient
) -> None:
    """Ten events in one commit (the queue holds 2) reach a subscriber that keeps
    reading, all of them, in order: a deleted engagement's DELETED events come so."""
    _, server = solo
    feed = await thread(world)
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(server.url, before + 1)
        posted = await solo_gql.data(
            f"mutation {{ {_burst(feed.conversation.gid)} }}", token=feed.staff.token
        )
        received = [(await ws.event(operation))["messageId"] for _ in range(10)]
    assert received == [posted[f"p{n}"]["message"]["id"] for n in range(10)]


@pytest.fixture(scope="module")
def hasty(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A subscriber is closed as soon as a batch finds its queue (2) full."""
    yield from own_server(database_url, tmp_path_factory, "hasty", **HASTY)


HASTY = {"SUBSCRIPTION_QUEUE_SIZE": "2", "LIVE_FEED_BEHIND_SECONDS": "0"}


async def test_a_subscriber_that_falls_behind_is_closed_too_slow_and_others_keep_receiving(
    world: World, hasty: RunningServer
) -> None:
    """Ten events in one commit find the queue full at the third, and no time is given to
    make room: the subscriber ends SUBSCRIBER_TOO_SLOW, then `complete`; another
    conversation's subscriber is served all along. (How long a subscriber is given, with a
    subscriber that reads nothing: tests/test_broadcast_fanout.py.)"""
    slow, other = await thread(world), await thread(world)
    before = await subscriptions_started(hasty.url)
    async with (
        httpx.AsyncClient(timeout=30) as http,
        GraphQLWebSocket.open(hasty.graphql_url, token=slow.staff.token) as ws,
        GraphQLWebSocket.open(hasty.graphql_url, token=other.staff.token) as other_ws,
    ):
        gql = GraphQLClient(http, hasty.graphql_url)
        slow_feed = await ws.feed(slow.conversation.gid)
        other_feed = await other_ws.feed(other.conversation.gid)
        await wait_until_subscribed(hasty.url, before + 2)
        await gql.data(f"mutation {{ {_burst(slow.conversation.gid)} }}", token=slow.staff.token)
        messages = [await ws.next(slow_feed)]
        while messages[-1]["type"] == "next" and "errors" not in messages[-1]["payload"]:
            messages.append(await ws.next(slow_feed))
        closing = await ws.next(slow_feed)
        message_id = await post(gql, other.staff, other.conversation, "still flowing")
        event = await other_ws.event(other_feed)
    assert len(messages) <= 3  # at most the queued events, then the notice
    assert messages[-1]["payload"]["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
    assert closing == {"id": slow_feed, "type": "complete"}
    assert event["messageId"] == message_id


def _burst(conversation: str) -> str:
    """Ten posts in one mutation document: their events are committed, and relayed, at once."""
    return " ".join(
        f'p{n}: postMessage(input: {{conversationId: "{conversation}", '
        f'content: "burst {n}"}}) {{ message {{ id }} errors {{ code }} }}'
        for n in range(10)
    )


def test_listener_names_carry_the_process_id() -> None:
    from engagement_api.broadcast import postgres, redis

    assert postgres.LISTENER_APPLICATION_NAME.endswith(str(os.getpid()))
    assert redis.LISTENER_CLIENT_NAME.endswith(str(os.getpid()))


ANSWER_BOUND_SECONDS = 2.5
"""Far below the broadcaster's 5 s wait for Redis (`DB_CONNECT_TIMEOUT_SECONDS`), far
above a post's own time: a guard against waiting on Redis, not a speed figure."""


async def test_a_frozen_redis_neither_holds_a_commits_answer_nor_loses_its_event(
    world: World, database_url: str, tmp_path: Path
) -> None:
    """The announcement is sent after the answer, in the background: a Redis that takes
    the connection and never replies delays no response, and the outbox sweep delivers.
    The publishes waiting on it hold a bounded number of connections and give up after the
    connect timeout; the outage is logged once, and its end once."""
    feed = await thread(world)
    stalled = 3 * SENDING
    log = tmp_path / "server0.log"
    with redis_of_its_own() as (url, redis_server):
        environment = {
            "REDIS_URL": url,
            "BROADCAST_CHANNEL": f"test_{uuid.uuid4().hex}",
            "DB_CONNECT_TIMEOUT_SECONDS": "1",
        }
        with servers(database_url, tmp_path, 1, **environment) as (server,):
            async with (
                httpx.AsyncClient(timeout=30) as http,
                GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws,
            ):
                gql = GraphQLClient(http, server.graphql_url)
                operation = await ws.feed(feed.conversation.gid)
                await wait_until_subscribed(server.url, 1)
                await post(gql, feed.staff, feed.conversation, "before")  # publisher connected
                await ws.event(operation)
                redis_server.send_signal(signal.SIGSTOP)
                try:
                    async with asyncio.timeout(ANSWER_BOUND_SECONDS):
                        frozen = [
                            await post(gql, feed.staff, feed.conversation, f"frozen {n}")
                            for n in range(stalled)
                        ]
                        answered = await gql.data(
                            "{ viewer { user { id } } }", token=feed.staff.token
                        )
                    events = [await ws.event(operation) for _ in frozen]
                    connections = _connections_to(server.process.pid, urlsplit(url).port or 0)
                    async with asyncio.timeout(GUARD_SECONDS):  # the publishes give up
                        while "could not announce" not in log.read_text():  # noqa: ASYNC110
                            await asyncio.sleep(0.1)
                finally:
                    redis_server.send_signal(signal.SIGCONT)
                after = await post(gql, feed.staff, feed.conversation, "after")
                resumed = await ws.event(operation)
                async with asyncio.timeout(GUARD_SECONDS):
                    while "announcing again" not in log.read_text():  # noqa: ASYNC110
                        await asyncio.sleep(0.1)
    assert resumed["messageId"] == after  # delivered once Redis answers again
    assert answered["viewer"]["user"]["id"] == feed.staff.gid
    assert [(e["kind"], e["messageId"]) for e in events] == [("POSTED", m) for m in frozen]
    assert 1 <= connections <= SENDING + 1  # the publishes and the listener
    assert log.read_text().count("could not announce") == 1


def _connections_to(pid: int, port: int) -> int:
    """Established TCP connections of a process to a port on this machine (/proc)."""
    sockets = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(descriptor)
            if target.startswith("socket:["):
                sockets.add(target[len("socket:[") : -1])
    established = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            established += fields[3] == "01" and remote_port == port and fields[9] in sockets
    return established


def _masked_frame(message: dict[str, Any]) -> bytes:
    """A client's WebSocket text frame (masked, as RFC 6455 requires of clients)."""
    payload = json.dumps(message).encode()
    mask = os.urandom(4)
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.fixture(scope="module")
def logged_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "disconnects")


async def _subscriber_that_never_reads(
    server: RunningServer, token: str, conversation: str, subscriptions: int
) -> socket.socket:
    """A socket with `subscriptions` live subscriptions that reads nothing after the
    upgrade, its receive buffer small: the server's writes to it soon wait."""
    address = urlsplit(server.url)
    connection = socket.create_connection((address.hostname, address.port))
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall(
        f"GET /graphql HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n".encode()
    )
    assert connection.recv(4096).startswith(b"HTTP/1.1 101")
    started = await subscriptions_started(server.url)
    authorization = {"Authorization": f"Bearer {token}"}
    connection.sendall(_masked_frame({"type": "connection_init", "payload": authorization}))
    query = f"""subscription {{ messageEvents(conversationId: "{conversation}") {{
        kind message {{ content }} }} }}"""
    for n in range(subscriptions):
        subscribe = {"id": str(n), "type": "subscribe", "payload": {"query": query}}
        connection.sendall(_masked_frame(subscribe))
    await wait_until_subscribed(server.url, started + subscriptions)
    return connection


async def test_a_subscriber_gone_mid_delivery_is_no_server_error(
    world: World, logged_server: RunningServer
) -> None:
    """A client closing its socket while events are still being written to it is an
    everyday event: it is not logged as an error, nor counted as a server error."""
    feed = await thread(world)
    connection = await _subscriber_that_never_reads(
        logged_server, feed.staff.token, feed.conversation.gid, 16
    )
    async with httpx.AsyncClient(timeout=30) as http:
        gql = GraphQLClient(http, logged_server.graphql_url)
        for n in range(30):
            await post(gql, feed.staff, feed.conversation, f"{n} " + "z" * 19_990)
        connection.close()
        await until_no_subscriptions(logged_server.url)
        metrics = (await http.get(f"{logged_server.url}/metrics")).text
    assert errors_logged(logged_server.logs()) == []
    assert 'code="INTERNAL_SERVER_ERROR"' not in metrics


async def test_a_subscriber_that_reads_nothing_is_dropped_after_the_send_timeout(
    world: World, database_url: str, tmp_path: Path
) -> None:
    """A socket that stops reading while its events fill the server's write buffer holds
    its subscriptions, its connection and the unsent events only until
    HTTP_SEND_TIMEOUT_SECONDS pass without the client reading anything."""
    feed = await thread(world)
    with servers(database_url, tmp_path, 1, HTTP_SEND_TIMEOUT_SECONDS="1") as (server,):
        connection = await _subscriber_that_never_reads(
            server, feed.staff.token, feed.conversation.gid, 4
        )
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                gql = GraphQLClient(http, server.graphql_url)
                for n in range(80):  # 6 MB of events, fewer than a subscription's queue holds
                    await post(gql, feed.staff, feed.conversation, f"{n} " + "z" * 19_990)
                assert await live_subscriptions(server.url) == 4
                await until_no_subscriptions(server.url)
        finally:
            connection.close()
        assert errors_logged(server.logs()) == []
