"""WebSocket messages go out as text frames.

The view encodes JSON with orjson, to bytes; Strawberry's adapter sends bytes as *binary*
frames. graphql-transport-ws messages are JSON text: a browser hands a binary frame to
graphql-ws as a Blob and the Node client as a Buffer, and both reject it ("Message is
missing the 'type' property"). This adapter sends the same JSON as a text frame.
"""

import contextlib
from collections.abc import Mapping

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected

from engagement_api.http.errors import oversized

SOCKET_CLOSED = (WebSocketDisconnect, RuntimeError)
"""What a send raises once the socket is closed. Starlette raises `WebSocketDisconnect` for
a lost connection and a `RuntimeError` after the application's close; Uvicorn raises a
`RuntimeError` after a close of its own (a protocol error of the client, the keep-alive's
timeout) until the connection is gone. A text frame is a valid message for an accepted
socket, so no other `RuntimeError` comes from sending one."""


MAX_REASON_BYTES = 123
"""A close frame is a control frame: 125 bytes at most, two of them the code."""


def fitted_reason(reason: str) -> str:
    """`reason` cut to fit a close frame, at a character's boundary: a reason that quotes
    the client (an unknown message type) may be longer, and a frame over the limit would
    fail the close itself."""
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    return encoded[:MAX_REASON_BYTES].decode(errors="ignore")


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.send_text(self.view.encode_json_string(message))

    async def send_text(self, text: str) -> None:
        """An already encoded message."""
        try:
            await self.ws.send_text(text)
        except SOCKET_CLOSED as error:
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        """The first close is the one the client gets; a later one does nothing. The
        connection's reader and each subscribe's task may close it (a document over the
        token limit closes it from its task), and the later closes meet a closed socket:
        no error, as a client gone is none."""
        with contextlib.suppress(*SOCKET_CLOSED):
            await self.ws.close(code=code, reason=fitted_reason(reason))


def next_frame(operation_id: str, payload_text: str) -> str:
    """`{"id": …, "type": "next", "payload": …}` around an encoded payload: the bytes
    orjson gives the whole message (keys in this order, no spaces)."""
    return f'{{"id":{orjson.dumps(operation_id).decode()},"type":"next","payload":{payload_text}}}'


SUBSCRIBE_FIELDS = (
    ("query", (str,), True, "a string"),
    ("operationName", (str,), False, "a string or null"),
    ("variables", (dict,), False, "an object or null"),
    ("extensions", (dict,), False, "an object or null"),
)


def message_problem(message: object) -> str | None:
    """Why a graphql-transport-ws message is malformed (the close reason for 4400), or None."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    if not isinstance(message.get("type"), str):
        return "A message's `type` must be a string."
    kind = message["type"]
    if kind not in ("subscribe", "complete"):
        return None
    if not isinstance(message.get("id"), str) or not message["id"]:
        return f"A {kind} message's `id` must be a non-empty string."
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "A subscribe message's `payload` must be an object."
    for key, kinds, required, described in SUBSCRIBE_FIELDS:
        value = payload.get(key)
        if (value is None and required) or (value is not None and not isinstance(value, kinds)):
            return f"A subscribe message's `payload.{key}` must be {described}."
    for key in ("variables", "extensions"):
        problem = oversized(payload.get(key))
        if problem is not None:
            return f"A subscribe message's `payload.{key}` {problem}."
    return None
