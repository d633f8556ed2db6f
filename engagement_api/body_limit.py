"""ASGI middleware: a request body larger than the limit is refused with 413 before the
application reads it (domain rules §4, request body size)."""

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "BODY_TOO_LARGE"


class BodySizeLimitMiddleware:
    """Refuses HTTP requests whose body exceeds `max_bytes`: at once when `Content-Length`
    says so, otherwise as soon as the streamed body passes the limit (it is buffered up to
    the limit and replayed to the application)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        """Args:
        app: the ASGI application to wrap.
        max_bytes: the largest request body accepted, in bytes.
        """
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"The request body exceeds {self.max_bytes} bytes.",
                        "extensions": {"code": CODE, "limit": self.max_bytes},
                    }
                ]
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
