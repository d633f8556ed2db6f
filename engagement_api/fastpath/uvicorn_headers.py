"""Uvicorn's httptools protocol with header size and time limits (see http/protocol.py:
imported only when Uvicorn is the version in `versions.UVICORN_HEADER_LIMITS`).

It overrides the protocol's parser callbacks, which are not Uvicorn's public API. It is
a limit, not a speed-up, so `FAST_PATH` does not turn it off: its own version guard does,
and the fallback is Uvicorn's h11 protocol with a size limit only."""

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engagement_api.errors import ServiceUnavailableError
from engagement_api.fastpath.send_timeout import SendTimeout
from engagement_api.http.errors import BAD_REQUEST, refusal_response
from engagement_api.http.protocol import HEADER_TIMEOUT, HEADER_TOO_LARGE, refusal
from engagement_api.settings import get_settings

LINGER_SECONDS = 2.0
"""How long a refused connection's further bytes are read and dropped before it closes."""
MAX_PIPELINED = 32
"""Requests parsed ahead of their answers on one connection: more are not read; the
connection closes once those are answered (clients send again what went unanswered). One
read can hold thousands of small requests, each queued with its parsed headers."""
NOT_HTTP = "The request is not valid HTTP/1.1 (its method, target or framing)."
FRAMING_PER_BODY_BYTE = 32
"""Chunk framing allowed per byte of body (a chunk of one byte takes five more, or more
with a zero-padded size or an extension)."""


class HeaderLimitedProtocol(SendTimeout, HttpToolsProtocol):
    """Refuses headers over `MAX_HEADER_BYTES` (431) or slower than
    `HTTP_HEADER_TIMEOUT_SECONDS` (408), counted from the start of each request, or of the
    connection for its first one. Drops a connection whose client has read nothing of a
    full write buffer for `HTTP_SEND_TIMEOUT_SECONDS`: the unsent response is freed (its
    cycle marked disconnected first, as Uvicorn's own `connection_lost` does)."""

    _reading_headers = False
    _header_bytes = 0
    _header_timer: asyncio.TimerHandle | None = None
    _discarding = False
    _deferred: bytes | None = None
    _fields = 0
    """Bytes of the request's target, header fields and trailers the parser has read."""
    _parsed_in_read = False
    """Whether the current read held anything of a request before the one now parsed."""
    _began_mid_read = False
    _body_in_read = 0
    _body = 0
    _overhead = 0
    """Bytes of a request past its headers that are no body: chunk framing, trailers."""
    _drop_when_started: tuple[Any, bytes] | None = None
    """A queued request that cannot be answered (its trailers went over the limit, or its
    body's framing broke), and its refusal (empty: none), to send once those before it are
    answered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._max_header_bytes = settings.max_header_bytes
        self._header_timeout = settings.http_header_timeout_seconds

    def _send_timed_out(self) -> None:
        if self.cycle is not None:  # the application's further sends do nothing
            self.cycle.disconnected = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    # The parser's callbacks. Two measures bound a request's headers: the bytes of the
    # reads spent in them (a read where they began after another request's bytes is left
    # out: it is not theirs alone), and the target and fields the parser hands over, which
    # also counts headers read whole within one read, and chunked trailers. A refused
    # request, and anything after it on the connection, reaches nothing further.

    def on_message_begin(self) -> None:
        if self._discarding:
            return
        began_mid_read = self._parsed_in_read
        super().on_message_begin()
        self._start_headers()
        self._began_mid_read = began_mid_read
        self._body = self._overhead = 0

    def on_url(self, url: bytes) -> None:
        if not self._discarding:
            self._parsed_in_read = True
            super().on_url(url)
            self._count_fields(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._discarding:
            self._parsed_in_read = True
            super().on_header(name, value)
            self._count_fields(len(name) + len(value) + 4)  # ": " and the line's end

    def on_headers_complete(self) -> None:
        if self._discarding:
            return
        self._parsed_in_read = True
        self._reading_headers = False
        self._stop_header_timer()
        if len(self.pipeline) >= MAX_PIPELINED:  # not queued: closed after those that are
            self._discarding = True
            self._deferred = b""
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._discarding:
            self._parsed_in_read = True
            self._body_in_read += len(body)
            self._body += len(body)
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._discarding:
            self._parsed_in_read = True
            super().on_message_complete()

    def _count_fields(self, size: int) -> None:
        self._fields += size
        if self._fields <= self._max_header_bytes:
            return
        if self._reading_headers:
            self._refuse(self._too_large())
        else:
            self._stop_request()

    def _stop_request(self, refusal: bytes = b"") -> None:
        """The request past its headers (trailers over the limit, a body whose framing
        broke) cannot be answered: nothing more is read, and once the requests before it
        are answered it gets `refusal` and the connection is dropped."""
        self._discarding = True
        if any(cycle is self.cycle for cycle, _ in self.pipeline):
            self._drop_when_started = (self.cycle, refusal)
        else:
            self._end_current(refusal)

    def _end_current(self, refusal: bytes) -> None:
        """End the request being answered with `refusal`, or unanswered when its answer
        has begun; what is written goes out first. Its application, waiting for the rest
        of the body, reads a disconnect."""
        cycle = self.cycle
        if cycle is not None:
            refusal = b"" if cycle.response_started else refusal
            cycle.disconnected = True
            cycle.message_event.set()
        self._send_refusal(refusal)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        self._parsed_in_read = self._began_mid_read = False
        self._body_in_read = 0
        super().data_received(data)
        if self._discarding or self._began_mid_read:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header_bytes:
                self._refuse(self._too_large())
        elif self.cycle is not None and self.cycle.more_body:  # trailers arrive unparsed
            self._overhead += len(data) - self._body_in_read
            allowed = 2 * self._max_header_bytes + FRAMING_PER_BODY_BYTE * self._body
            if self._overhead > allowed:
                self._stop_request()

    # Uvicorn's own handling of what follows a refused request's headers in the same
    # read: an upgrade, or bytes it cannot parse, get no second answer.

    def _should_upgrade(self) -> bool:
        return not self._discarding and bool(super()._should_upgrade())

    def _unsupported_upgrade_warning(self) -> None:
        if not self._discarding:
            super()._unsupported_upgrade_warning()

    def send_400_response(self, msg: str) -> None:
        """Bytes that are no HTTP/1.1 request (an unknown method, a broken request line, a
        chunked body's broken framing): the refusal is JSON with a code, as every other
        one, after the answers before it. A request whose own body broke gets it in place
        of its answer: its application would wait for the rest of that body."""
        if self._discarding:
            return
        response = refusal(400, b"Bad Request", BAD_REQUEST, NOT_HTTP)
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            self._stop_request(response)
        else:
            self._refuse(response)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        """Beyond the worker's connection cap Uvicorn answers with its own plain-text app."""
        super()._start_asgi_task(cycle, too_many_connections if app is service_unavailable else app)

    def _too_large(self) -> bytes:
        return refusal(
            431,
            b"Request Header Fields Too Large",
            HEADER_TOO_LARGE,
            f"The request's headers exceed {self._max_header_bytes} bytes.",
        )

    def _start_headers(self) -> None:
        self._reading_headers = True
        self._header_bytes = self._fields = 0
        if self._header_timer is None:  # a connection's first request: timed from the connection
            self._header_timer = self.loop.call_later(self._header_timeout, self._timed_out)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        if self._reading_headers and not self.transport.is_closing():
            self._refuse(
                refusal(
                    408,
                    b"Request Timeout",
                    HEADER_TIMEOUT,
                    f"The request's headers did not arrive within {self._header_timeout:g}"
                    " seconds.",
                )
            )

    def _refuse(self, response: bytes) -> None:
        """Answers, then drops what the client still sends for a moment before closing:
        closing with unread data would reset the connection, and the client, still
        sending, would lose the answer (a "lingering close")."""
        self._reading_headers = False
        self._stop_header_timer()
        self._discarding = True
        if self._answering():
            self._deferred = response  # a pipelined request: answered after those before it
            return
        self._send_refusal(response)

    def _send_refusal(self, response: bytes) -> None:
        self.transport.write(response)
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _answering(self) -> bool:
        """Whether an earlier request of the connection is still to be answered."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts the next queued request, if any
        if self.transport.is_closing():
            return
        dropping = self._drop_when_started
        if dropping is not None and not any(cycle is dropping[0] for cycle, _ in self.pipeline):
            self._end_current(dropping[1])
        elif self._deferred is not None and not self._answering():
            response, self._deferred = self._deferred, None
            self._send_refusal(response)


too_many_connections: Any = refusal_response(  # Starlette's ASGI types, not Uvicorn's
    503,
    ServiceUnavailableError.code,
    "The server holds as many connections as it may; retry shortly.",
    {"retry-after": "1", "connection": "close"},
)
"""Uvicorn's answer beyond `limit_concurrency` (an ASGI app), as JSON with a code."""
