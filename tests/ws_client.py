"""A graphql-transport-ws client over a real WebSocket, as the mobile app speaks it.

A reader task routes every server message: operation messages (`next`, `error`,
`complete`) to the queue of their subscription id, the others (`ping`, `pong`) to the
control queue. Server pings are answered with `pong`, as the protocol requires. Every wait
is bounded by `GUARD_SECONDS` so that a missing message fails the test instead of hanging.
"""

import asyncio
import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from tests.conftest import RunningServer

PROTOCOL = "graphql-transport-ws"
GUARD_SECONDS = 30.0
Message = dict[str, Any]

MESSAGE_EVENTS = """subscription Feed($id: ID!) {
  messageEvents(conversationId: $id) {
    kind messageId message { id content isInternal sender { id } conversation { id } }
  }
}"""


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._operations: dict[str, asyncio.Queue[Message]] = defaultdict(asyncio.Queue)
        self.control: asyncio.Queue[Message] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        graphql_url: str,
        *,
        token: str | None = None,
        header_token: str | None = None,
        init_payload: dict[str, Any] | None = None,
        acknowledged: bool = True,
        reader: bool = True,
    ) -> AsyncIterator["GraphQLWebSocket"]:
        """Connect and send `connection_init` (with `token` in its payload); wait for the
        `connection_ack` unless `acknowledged` is False. Without `reader`, the caller reads
        the connection itself (benchmarks)."""
        url = graphql_url.replace("http://", "ws://")
        headers = {"Authorization": f"Bearer {header_token}"} if header_token else None
        payload = dict(init_payload or {})
        if token is not None:
            payload["Authorization"] = f"Bearer {token}"
        async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as conn:  # type: ignore[list-item]
            client = cls(conn)
            await client.send({"type": "connection_init", "payload": payload})
            if acknowledged:
                ack = await client.receive_raw()
                assert ack["type"] == "connection_ack", ack
            if reader:
                client._reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                if client._reader is not None:
                    client._reader.cancel()

    async def send(self, message: Message) -> None:
        await self.connection.send(orjson.dumps(message).decode())

    async def receive_raw(self) -> Message:
        """The next server message (only before the reader runs)."""
        raw = await asyncio.wait_for(self.connection.recv(), GUARD_SECONDS)
        message: Message = orjson.loads(raw)
        return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self._ids))
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return operation_id

    async def feed(self, conversation_gid: str) -> str:
        return await self.subscribe(MESSAGE_EVENTS, {"id": conversation_gid})

    async def next(self, operation_id: str) -> Message:
        """The next message of one operation (`next`, `error` or `complete`)."""
        return await asyncio.wait_for(self._operations[operation_id].get(), GUARD_SECONDS)

    async def event(self, operation_id: str) -> dict[str, Any]:
        """The next `messageEvents` value of one subscription (fails on anything else)."""
        message = await self.next(operation_id)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["messageEvents"]
        return event

    async def next_control(self) -> Message:
        return await asyncio.wait_for(self.control.get(), GUARD_SECONDS)

    async def closed(self) -> tuple[int | None, str | None]:
        """The close code and reason, once the server has closed the connection."""
        await asyncio.wait_for(self.connection.wait_closed(), GUARD_SECONDS)
        return self.connection.close_code, self.connection.close_reason

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message: Message = orjson.loads(raw)
                if "id" in message:
                    self._operations[message["id"]].put_nowait(message)
                    continue
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                self.control.put_nowait(message)
        except ConnectionClosed:
            pass


async def subscriptions_started(server_url: str) -> int:
    """The server's count of subscriptions ever registered (from /healthz)."""
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{server_url}/healthz")).json()
    return int(body["liveFeed"]["subscriptionsStarted"])


async def live_subscriptions(server_url: str) -> int:
    """The subscriptions the server holds now (from /healthz)."""
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{server_url}/healthz")).json()
    return int(body["liveFeed"]["subscribers"])


async def until_no_subscriptions(server_url: str) -> None:
    """Await the server ending every subscription (a client gone, a socket closed)."""
    async with asyncio.timeout(GUARD_SECONDS):
        while await live_subscriptions(server_url):  # noqa: ASYNC110 - a remote state
            await asyncio.sleep(0.02)


def uncoded_errors(message: dict[str, Any]) -> list[str]:
    """The errors of a graphql-transport-ws `error` or `next` message that have no code, or
    the code of an unexpected error, described."""
    payload = message.get("payload")
    errors: list[Any] = []
    if message.get("type") == "error" and isinstance(payload, list):
        errors = payload
    elif message.get("type") == "next" and isinstance(payload, dict):
        errors = list(payload.get("errors") or [])
    codes = [
        ((error.get("extensions") or {}).get("code"), error.get("message")) for error in errors
    ]
    return [
        f"error {code!r}: {text!r}"
        for code, text in codes
        if not isinstance(code, str) or code == "INTERNAL_SERVER_ERROR"
    ]


def errors_logged(log: str) -> list[dict[str, Any]]:
    """The JSON records of a server's log text at level error or critical."""
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [record for record in records if record.get("level") in ("error", "critical")]


def errors_logged_since(server: "RunningServer", offset: int) -> list[str]:
    """What the server logged as an error or worse after `offset` (`log_offset()`)."""
    return [f"logged: {record['message']}" for record in errors_logged(server.logs_since(offset))]


async def wait_until_subscribed(server_url: str, count: int) -> None:
    """Await the server registering its `count`-th subscription: only then is a
    subscription sure to receive what is published next (the protocol has no ack)."""
    async with asyncio.timeout(GUARD_SECONDS):
        while await subscriptions_started(server_url) < count:  # noqa: ASYNC110 - a remote state
            await asyncio.sleep(0.02)
