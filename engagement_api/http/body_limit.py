"""ASGI middleware: a request body larger than the limit is refused with 413 before the
application reads it (domain rules §4, request body size), one that does not arrive
within the time limit with 408, and one sent with a transfer coding the server does not
implement (any but `chunked`, RFC 9112 §6.1) with 501, before a byte of it is read.

It runs outside the execution slots (http/slots.py): the whole body is read before a request
waits for a slot, so clients that stall their bodies hold none.
"""

import asyncio

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement_api.http.errors import refusal_media_type

CODE = "BODY_TOO_LARGE"
TIMEOUT_CODE = "BODY_TIMEOUT"
CODING_CODE = "TRANSFER_CODING_NOT_SUPPORTED"
DRAIN_FACTOR = 4
"""A body up to this many times the limit is read (and dropped) before the 413, so that the
client, still sending, sees the answer rather than a reset connection; a larger one is
refused at once."""


class BodySizeLimitMiddleware:
    """Refuses HTTP requests whose body exceeds `max_bytes`: at once when `Content-Length`
    says so, otherwise as soon as the streamed body passes the limit (it is buffered up to
    the limit and replayed to the application). A body that has not fully arrived
    `timeout_seconds` after the headers is refused with 408."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float = 30.0) -> None:
        """Args:
        app: the ASGI application to wrap.
        max_bytes: the largest request body accepted, in bytes.
        timeout_seconds: how long the whole body may take to arrive.
        """
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.drain_bytes = DRAIN_FACTOR * max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        codings = _unsupported_codings(scope)
        if codings:
            await _refuse(
                scope,
                send,
                501,
                f"Transfer coding not supported: {', '.join(codings)}; send the body as it "
                "is, with Content-Length or chunked.",
                {"code": CODING_CODE, "codings": codings},
            )
            return
        declared = _content_length(scope)
        messages: list[Message] = []
        too_large = declared is not None and declared > self.max_bytes
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if not too_large:
                    too_large = await self._read(receive, messages)
                if too_large and (declared or 0) <= self.drain_bytes:
                    await _drain(receive, self.drain_bytes)
        except TimeoutError:
            if not too_large:
                await _refuse(
                    scope,
                    send,
                    408,
                    f"The request body did not arrive within {self.timeout_seconds:g} seconds.",
                    {"code": TIMEOUT_CODE, "limit": self.timeout_seconds},
                )
                return
        if too_large:
            await self._refuse_size(scope, send)
            return
        if messages and messages[-1]["type"] == "http.disconnect":
            return  # the client left before its body was complete: no one to answer
        await self.app(scope, _replay(messages, receive), send)

    async def _read(self, receive: Receive, messages: list[Message]) -> bool:
        """Reads the body into `messages`; True when it passes the limit."""
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return True
            if message["type"] != "http.request" or not message.get("more_body", False):
                return False

    async def _refuse_size(self, scope: Scope, send: Send) -> None:
        await _refuse(
            scope,
            send,
            413,
            f"The request body exceeds {self.max_bytes} bytes.",
            {"code": CODE, "limit": self.max_bytes},
        )


async def _refuse(
    scope: Scope, send: Send, status: int, message: str, extensions: dict[str, object]
) -> None:
    """Answers JSON (the type the client accepts) and closes the connection (the rest of
    the body is never read)."""
    media_type = refusal_media_type(Headers(scope=scope).get("accept"))
    body = orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive, budget: int) -> None:
    """Reads and drops the rest of the body, up to `budget` bytes."""
    dropped = 0
    while dropped <= budget:
        message = await receive()
        dropped += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _unsupported_codings(scope: Scope) -> list[str]:
    """The codings of `Transfer-Encoding` other than `chunked`, in the order sent. The HTTP
    parser framed the body by its chunks and passed the rest on as if the body were sent
    as it is: read so, a compressed body would be taken for the request."""
    names = (
        coding.split(";", 1)[0].strip().lower()
        for line in Headers(scope=scope).getlist("transfer-encoding")
        for coding in line.split(",")
    )
    # An empty list element ("gzip, , chunked") is allowed, and names no coding.
    return [name[:40] for name in names if name not in ("chunked", "")][:8]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
