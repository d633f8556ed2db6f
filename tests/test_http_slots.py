"""HttpSlotsMiddleware: at most N `/graphql` HTTP requests of a process run at once."""

import asyncio
from typing import Any

import pytest
from starlette.types import Message

from engagement_api.http.slots import HttpSlotsMiddleware


class Gate:
    """An ASGI app that records entries and holds each request until released."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered.append(scope["path"])
        self.arrived.set()
        if scope["path"] == "/graphql":
            await self.release.wait()


def http(path: str, token: bytes | None = None) -> dict[str, Any]:
    headers = [] if token is None else [(b"authorization", b"Bearer " + token)]
    return {"type": "http", "path": path, "headers": headers, "client": ("10.0.0.1", 1234)}


async def _receive_nothing() -> Message:
    raise AssertionError("these apps never read a request body")


async def _send_nowhere(message: Message) -> None:
    raise AssertionError("this app never sends")


async def test_second_graphql_request_waits_for_the_only_slot() -> None:
    gate = Gate()
    app = HttpSlotsMiddleware(gate, slots=1)
    first = asyncio.create_task(app(http("/graphql"), _receive_nothing, _send_nowhere))
    await gate.arrived.wait()
    second = asyncio.create_task(app(http("/graphql"), _receive_nothing, _send_nowhere))
    await asyncio.sleep(0)  # let the second request reach the slot
    assert gate.entered == ["/graphql"]
    gate.release.set()
    await asyncio.gather(first, second)
    assert gate.entered == ["/graphql", "/graphql"]


async def test_health_check_is_answered_while_every_slot_is_busy() -> None:
    gate = Gate()
    app = HttpSlotsMiddleware(gate, slots=1)
    busy = asyncio.create_task(app(http("/graphql"), _receive_nothing, _send_nowhere))
    await gate.arrived.wait()
    await app(http("/healthz"), _receive_nothing, _send_nowhere)
    assert gate.entered == ["/graphql", "/healthz"]
    gate.release.set()
    await busy


class Streamer:
    """An ASGI app that starts its response, then holds the body until released."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self.first_started = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        self.started += 1
        self.first_started.set()
        await self.release.wait()
        await send({"type": "http.response.body", "body": b"{}"})


async def _discard(message: Any) -> None:
    return None


async def test_slot_is_freed_when_the_response_starts() -> None:
    streamer = Streamer()
    app = HttpSlotsMiddleware(streamer, slots=1)
    slow_reader = asyncio.create_task(app(http("/graphql"), _receive_nothing, _discard))
    await streamer.first_started.wait()
    second = asyncio.create_task(app(http("/graphql"), _receive_nothing, _discard))
    await asyncio.sleep(0)  # let the second request take the slot
    assert streamer.started == 2
    streamer.release.set()
    await asyncio.gather(slow_reader, second)


class Responder:
    """An ASGI app whose first request answers only when released; the others at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.first_arrived = asyncio.Event()
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            self.first_arrived.set()
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def closes_connection(messages: list[Any]) -> bool:
    start = next(message for message in messages if message["type"] == "http.response.start")
    return (b"connection", b"close") in start["headers"]


async def _first_response_while(waiting: int, shed_over: int) -> list[Any]:
    """The first request's response messages, sent while `waiting` requests wait."""
    responder = Responder()
    app = HttpSlotsMiddleware(responder, slots=1, shed_over=shed_over)
    messages: list[Any] = []

    async def record(message: Any) -> None:
        messages.append(message)

    first = asyncio.create_task(app(http("/graphql"), _receive_nothing, record))
    await responder.first_arrived.wait()
    others = [
        asyncio.create_task(app(http("/graphql"), _receive_nothing, _discard))
        for _ in range(waiting)
    ]
    await asyncio.sleep(0)  # let them queue for the slot
    assert app.waiting == waiting
    responder.release.set()
    await asyncio.gather(first, *others)
    return messages


async def test_a_response_closes_its_connection_when_too_many_requests_wait() -> None:
    assert closes_connection(await _first_response_while(waiting=3, shed_over=2))


async def test_a_response_keeps_its_connection_when_few_requests_wait() -> None:
    assert not closes_connection(await _first_response_while(waiting=2, shed_over=2))


async def test_connections_are_never_closed_for_load_when_shedding_is_off() -> None:
    assert not closes_connection(await _first_response_while(waiting=5, shed_over=0))


async def _answer_at_once(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_an_overloaded_worker_closes_one_response_connection_in_every_slots() -> None:
    app = HttpSlotsMiddleware(_answer_at_once, slots=3, shed_over=1)
    app.waiting = 5  # as if five other requests waited for a slot throughout
    closed = []
    for _ in range(7):
        messages: list[Any] = []

        async def record(message: Any, into: list[Any] = messages) -> None:
            into.append(message)

        await app(http("/graphql"), _receive_nothing, record)
        closed.append(closes_connection(messages))
    assert closed == [True, False, False, True, False, False, True]


class Held:
    """An ASGI app that holds each request until its own event is set."""

    def __init__(self) -> None:
        self.entered: list[bytes] = []
        self.events: list[asyncio.Event] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered.append(dict(scope["headers"]).get(b"authorization", b"-"))
        event = asyncio.Event()
        self.events.append(event)
        await event.wait()


@pytest.mark.parametrize("spelling", [b"Bearer a", b"bearer  a", b" BEARER a "])
async def test_a_token_is_one_client_however_its_header_is_spelled(spelling: bytes) -> None:
    held = Held()
    app = HttpSlotsMiddleware(held, slots=2)
    first = asyncio.create_task(app(http("/graphql", b"a"), _receive_nothing, _send_nowhere))
    scope = {**http("/graphql"), "headers": [(b"authorization", spelling)]}
    second = asyncio.create_task(app(scope, _receive_nothing, _send_nowhere))
    await asyncio.sleep(0)
    assert len(held.entered) == 1  # the second waits for the first: the same client
    held.events[0].set()
    await first
    async with asyncio.timeout(5):
        while len(held.events) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0)
    held.events[1].set()
    await second


async def test_one_client_leaves_a_slot_to_the_others_and_its_requests_keep_their_order() -> None:
    held = Held()
    app = HttpSlotsMiddleware(held, slots=2)
    a = [asyncio.create_task(app(http("/graphql", b"a"), _receive_nothing, _send_nowhere))]
    a.append(asyncio.create_task(app(http("/graphql", b"a"), _receive_nothing, _send_nowhere)))
    await asyncio.sleep(0)
    b = asyncio.create_task(app(http("/graphql", b"b"), _receive_nothing, _send_nowhere))
    await asyncio.sleep(0)
    assert held.entered == [b"Bearer a", b"Bearer b"]  # a's second waits, holding no slot
    held.events[0].set()
    await a[0]
    await asyncio.sleep(0)
    assert held.entered == [b"Bearer a", b"Bearer b", b"Bearer a"]
    for event in held.events:
        event.set()
    await asyncio.gather(*a, b)
    assert not app._clients  # nothing kept once a client's requests are done
