"""Raw WebSocket frames of every kind RFC 6455 forbids or allows, sent by a signed-in client
whose subscription is being sent events (`fuzz_transport.raw_frames`): whatever they are,
the server answers the subscribe that follows them, or closes the connection with
a close frame whose code names the fault; it never drops the connection without one (1006)
or closes it as its own failure (1011), every error it sends has a code, nothing it logs is
an error, and it goes on serving.

Derandomized, `FUZZ_TRANSPORT_EXAMPLES` examples (default 60), as the other transport fuzz
tests; raise it (and unset FUZZ_DERANDOMIZE) for a deeper run.
"""

import asyncio
from collections.abc import Iterator

import httpx
import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.fuzz_transport import raw_frames
from tests.live_feed import Thread, flood, thread
from tests.raw_websocket import CLOSE, TEXT, Frame, RawWebSocket
from tests.test_fuzz import SOCKET_CLOSES, TRANSPORT_SETTINGS
from tests.ws_client import MESSAGE_EVENTS, errors_logged_since, uncoded_errors

PROTOCOL_CLOSES = {1002, 1003, 1007, 1009}
"""RFC 6455's codes for a client's fault: a protocol error, data of a kind or encoding not
accepted, a message too big."""
PROBE = {"id": "probe-0", "type": "subscribe", "payload": {"query": "subscription { nope }"}}
"""Answered by an `error` message (its id is longer than any generated one). Not a ping:
Uvicorn answers a WebSocket ping itself, and a graphql-transport-ws ping among the generated
messages would be answered too; this answer comes once the frames before it were read."""


@pytest.fixture(scope="module")
def framed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "framed")


@pytest.fixture(scope="module")
async def feed(owner_engine: AsyncEngine) -> Thread:
    return await thread(World(owner_engine))


def _text(message: object) -> Frame:
    return Frame(TEXT, orjson.dumps(message))


def _acceptable_closes(frames: list[Frame]) -> set[int | None]:
    """The fault's codes, and what echoes a close frame the client sent (its code, or none
    for an empty body)."""
    echoed = {
        int.from_bytes(frame.payload[:2], "big") if frame.payload else None
        for frame in frames
        if frame.opcode == CLOSE
    }
    return PROTOCOL_CLOSES | SOCKET_CLOSES | echoed


async def _frames_then_probe(server: RunningServer, feed: Thread, frames: list[Frame]) -> list[str]:
    """Signs in, subscribes to the feed's conversation, sends `frames` while the feed is
    posted to, then a ping: the problems of what the server answered."""
    found: list[str] = []
    socket = await RawWebSocket.open(server.graphql_url.replace("http://", "ws://"))
    try:
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {feed.staff.token}"},
        }
        variables = {"id": feed.conversation.gid}
        subscribe = {
            "id": "feed",
            "type": "subscribe",
            "payload": {"query": MESSAGE_EVENTS, "variables": variables},
        }
        await socket.send(_text(init), _text(subscribe))
        await socket.send(*frames, _text(PROBE))
        while True:
            received = await socket.receive()
            if received is None:
                return [*found, "the connection ended without a close frame"]
            if received.opcode == CLOSE:
                if received.close_code not in _acceptable_closes(frames):
                    found.append(f"closed with {received.close_code}: {received.payload[2:]!r}")
                return found
            if received.opcode == TEXT:
                message = orjson.loads(received.payload)
                if message.get("id") == PROBE["id"]:
                    return found
                found += uncoded_errors(message)
    finally:
        await socket.close()


@given(frames=st.lists(raw_frames(), min_size=1, max_size=4))
@example(frames=[Frame(TEXT, b"\xc3\x28")])  # not UTF-8: Uvicorn closes it, and logs it
@TRANSPORT_SETTINGS
def test_no_websocket_frame_drops_the_socket_logs_an_error_or_stops_the_server(
    framed: RunningServer, feed: Thread, frames: list[Frame]
) -> None:
    async def example() -> list[str]:
        since = framed.log_offset()
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as http:
            gql = GraphQLClient(http, framed.graphql_url)
            posting = asyncio.create_task(flood(gql, feed, stop, 500))
            try:
                found = await _frames_then_probe(framed, feed, frames)
            finally:
                stop.set()
                await posting
            await asyncio.sleep(0.1)  # what the connection's last tasks log, they log by then
            found += errors_logged_since(framed, since)
            answer = await http.post(framed.graphql_url, json={"query": "{ __typename }"})
            if answer.json().get("data") != {"__typename": "Query"}:
                found.append(f"the server no longer serves: {answer.status_code} {answer.text}")
        return found

    assert asyncio.run(example()) == [], frames
