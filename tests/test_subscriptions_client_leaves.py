"""A client that leaves while its subscriptions are being sent events (its socket closed
or reset between two frames, or failed by a frame the protocol forbids while the server's
frames wait in the socket's buffers) ends them quietly: nothing the server logs is an
error."""

import asyncio
import random
from collections.abc import Iterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import Thread, flood, thread
from tests.raw_http import GUARD_SECONDS
from tests.raw_websocket import TEXT, Frame
from tests.ws_client import MESSAGE_EVENTS, PROTOCOL, errors_logged_since, until_no_subscriptions

SUBSCRIPTIONS = 20
"""Per connection: each one's task writes its frames while the reader sees the client go."""


@pytest.fixture(scope="module")
def leaving(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "leaving")


@pytest.fixture(scope="module")
async def feed(owner_engine: AsyncEngine) -> Thread:
    return await thread(World(owner_engine))


INVALID_TEXT_FRAME = Frame(TEXT, b"\xc3\x28").encode()
"""A text frame whose payload is not UTF-8: the server's WebSocket layer fails the
connection with 1007 and closes it, its subscriptions still sending."""


async def _subscribe_then_leave(
    server: RunningServer, feed: Thread, token: str, leave: str
) -> None:
    """Subscribe SUBSCRIPTIONS times, read until each had events, then leave: closing,
    resetting, or sending a frame the protocol forbids after reading nothing for a while."""
    url = server.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await connection.send(orjson.dumps(init).decode())
        for n in range(SUBSCRIPTIONS):
            payload = {"query": MESSAGE_EVENTS, "variables": {"id": feed.conversation.gid}}
            await connection.send(
                orjson.dumps({"id": f"s{n}", "type": "subscribe", "payload": payload}).decode()
            )
        nexts = 0
        async with asyncio.timeout(GUARD_SECONDS):
            while nexts < SUBSCRIPTIONS * 2:  # past each one's first event: direct frames
                message = orjson.loads(await connection.recv())
                assert message.get("type") in ("connection_ack", "next", "ping"), message
                nexts += message.get("type") == "next"
        await asyncio.sleep(random.random() * 0.05)
        if leave == "reset":
            connection.transport.abort()  # no close frame
        elif leave == "malformed":
            # Unread frames fill the socket's buffers, so the server's close waits for
            # them to drain while its subscriptions go on sending.
            await asyncio.sleep(0.3)
            connection.transport.write(INVALID_TEXT_FRAME)
            await asyncio.sleep(0.3)
            connection.transport.abort()


@pytest.mark.parametrize("leave", ["closed", "reset", "malformed"])
async def test_a_client_leaving_mid_feed_logs_no_error(
    leaving: RunningServer, feed: Thread, leave: str
) -> None:
    since = leaving.log_offset()
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=30) as http:
        gql = GraphQLClient(http, leaving.graphql_url)
        floods = [asyncio.create_task(flood(gql, feed, stop, 2000)) for _ in range(2)]
        try:
            for _ in range(5):
                # A connection of each viewer at once: within MAX_SUBSCRIPTIONS_PER_VIEWER.
                viewers = (feed.staff.token, feed.client.token)
                await asyncio.gather(
                    *(_subscribe_then_leave(leaving, feed, token, leave) for token in viewers)
                )
        finally:
            stop.set()
            await asyncio.gather(*floods)
    await until_no_subscriptions(leaving.url)
    await asyncio.sleep(0.2)  # what the connections' last tasks log, they log by then
    assert errors_logged_since(leaving, since) == []
