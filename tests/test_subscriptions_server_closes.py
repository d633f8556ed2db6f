"""When the server closes a WebSocket (4400, 4401, 4403, 4409, 4429), the close the
client gets is the first one, and whatever of the connection was still running (subscribe
tasks, the keep-alive, queued messages) ends quietly: a client's messages must not be able
to write errors into the server's log."""

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import RunningServer, own_server
from tests.factories import World
from tests.live_feed import Thread, thread
from tests.raw_http import GUARD_SECONDS
from tests.ws_client import MESSAGE_EVENTS, PROTOCOL, errors_logged_since, until_no_subscriptions

LIMIT = 3
# Over MAX_TOKENS (1,000): the parser stops, and the subscribe's task closes with 4400.
TOO_MANY_TOKENS = "subscription { " + 'messageEvents(conversationId:"x"){kind} ' * 240 + "}"
MALFORMED = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
BAD_INIT = '{"type":"connection_init","payload":{"Authorization":"Bearer nope"}}'
DUPLICATE_ID = 4409
TOO_MANY_INITS = 4429


@pytest.fixture(scope="module")
def closing(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "closing",
        # Pings race with every close; subscribes past the burst wait their turn.
        WEBSOCKET_KEEPALIVE_SECONDS="0.02",
        MAX_SUBSCRIPTIONS_PER_CONNECTION=str(LIMIT),
        WEBSOCKET_SUBSCRIBE_RATE="50",
    )


@pytest.fixture(scope="module")
async def feed(owner_engine: AsyncEngine) -> Thread:
    return await thread(World(owner_engine))


async def _close_code(server: RunningServer, frames: list[str]) -> int | None:
    """Send `frames` back to back on a new connection, read until the server closes it;
    then wait for the connection's subscriptions to end."""
    url = server.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        for frame in frames:
            await connection.send(frame)
        await _drain(connection)
    await until_no_subscriptions(server.url)
    await asyncio.sleep(0.2)  # what the connection's last tasks log, they log by then
    return connection.close_code


async def _drain(connection: ClientConnection) -> None:
    async with asyncio.timeout(GUARD_SECONDS):
        try:
            async for raw in connection:
                if orjson.loads(raw).get("type") == "ping":
                    await connection.send('{"type":"pong"}')
        except ConnectionClosed:
            pass


KINDS = ["subscribe", "too_many_tokens", "ping", "complete", "duplicate", "malformed", "reinit"]


OPENINGS = ["staff", "bad credentials", "subscribe before connection_init"]


def _frames_and_codes(
    feed: Thread, kinds: list[str], opening: str = "staff"
) -> tuple[list[str], set[int]]:
    """The frames of `kinds` after the opening (a `connection_init` with a staff token, one
    with a bad token: 4403, or a subscribe before any: 4401), ended by a malformed message
    (so that every sequence ends in a server close), and the close codes the client may
    get: 4400 from a subscribe's task over the token limit, racing with the code of the
    first message the reader closes on."""
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {feed.staff.token}"}}
    if opening != "staff":
        early = {"id": "early", "type": "subscribe", "payload": {"query": TOO_MANY_TOKENS}}
        first = BAD_INIT if opening == "bad credentials" else orjson.dumps(early).decode()
        rest, _ = _frames_and_codes(feed, kinds)
        return [first, *rest], {FORBIDDEN if opening == "bad credentials" else UNAUTHORIZED}
    frames = [orjson.dumps(init).decode()]
    codes: set[int] = set()
    live: list[str] = []  # ids of valid subscriptions the server holds
    operations = 0  # registered operations, those over the token limit included
    for n, kind in enumerate([*kinds, "malformed"]):
        message: dict[str, Any]
        reader_closes: int | None = None
        if kind in ("subscribe", "too_many_tokens", "duplicate"):
            ident = live[0] if kind == "duplicate" and live else f"op{n}"
            query = TOO_MANY_TOKENS if kind == "too_many_tokens" else MESSAGE_EVENTS
            payload = {"query": query, "variables": {"id": feed.conversation.gid}}
            message = {"id": ident, "type": "subscribe", "payload": payload}
            if ident in live:
                reader_closes = DUPLICATE_ID
            elif operations < LIMIT:  # else refused with SUBSCRIPTION_LIMIT_REACHED
                operations += 1
                if kind == "too_many_tokens":
                    codes.add(MALFORMED)
                else:
                    live.append(ident)
        elif kind == "complete":
            message = {"id": live[-1] if live else "none", "type": "complete"}
            if live:
                live.pop()
                operations -= 1
        elif kind == "ping":
            message = {"type": "ping"}
        elif kind == "reinit":
            message = init
            reader_closes = TOO_MANY_INITS
        else:
            message = {"type": 42}
            reader_closes = MALFORMED
        frames.append(orjson.dumps(message).decode())
        if reader_closes is not None:
            codes.add(reader_closes)
            break  # the reader reads nothing after its close
    return frames, codes


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(opening=st.sampled_from(OPENINGS), kinds=st.lists(st.sampled_from(KINDS), max_size=6))
async def test_messages_ending_in_a_server_close_close_it_once_and_log_no_error(
    closing: RunningServer, feed: Thread, opening: str, kinds: list[str]
) -> None:
    """Whatever follows the close (the connection's init, subscribes over the token limit,
    valid ones, pings, a duplicate id, a second init) is dropped without a logged error.
    Closes 4408 (no `connection_init` in 10 s) and 4401 of a socket without credentials
    come before any subscribe can start a task (those are refused unparsed)."""
    frames, codes = _frames_and_codes(feed, kinds, opening)
    since = closing.log_offset()
    code = await _close_code(closing, frames)
    assert code in codes
    assert errors_logged_since(closing, since) == []


async def test_subscribes_over_the_token_limit_back_to_back_close_4400_and_log_no_error(
    closing: RunningServer, feed: Thread
) -> None:
    frames, codes = _frames_and_codes(feed, ["too_many_tokens"] * 3)
    since = closing.log_offset()
    assert await _close_code(closing, frames[:-1]) == MALFORMED  # without the malformed end
    assert codes == {MALFORMED}
    assert errors_logged_since(closing, since) == []
