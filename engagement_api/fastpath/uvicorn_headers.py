"""Uvicorn's httptools protocol with header size and time limits (see http/protocol.py:
imported only when Uvicorn is the version in `versions.UVICORN_HEADER_LIMITS`).

It overrides the protocol's parser callbacks, which are not Uvicorn's public API. It is
a limit, not a speed-up, so `FAST_PATH` does not turn it off: its own version guard does,
and the fallback is Uvicorn's h11 protocol with a size limit only."""

import asyncio
import fcntl
import sys
import termios
from contextlib import suppress
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engagement_api.http.protocol import HEADER_TIMEOUT, HEADER_TOO_LARGE, refusal
from engagement_api.settings import get_settings

LINGER_SECONDS = 2.0
"""How long a refused connection's further bytes are read and dropped before it closes."""


class HeaderLimitedProtocol(HttpToolsProtocol):
    """Refuses headers over `MAX_HEADER_BYTES` (431) or slower than
    `HTTP_HEADER_TIMEOUT_SECONDS` (408), counted from the start of each request, or of the
    connection for its first one. Drops a connection whose client has read nothing of a
    full write buffer for `HTTP_SEND_TIMEOUT_SECONDS`: the unsent response is freed (its
    cycle marked disconnected first, as Uvicorn's own `connection_lost` does)."""

    _reading_headers = False
    _header_bytes = 0
    _header_timer: asyncio.TimerHandle | None = None
    _send_timer: asyncio.TimerHandle | None = None
    _unsent = 0
    _discarding = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._max_header_bytes = settings.max_header_bytes
        self._header_timeout = settings.http_header_timeout_seconds
        self._send_timeout = settings.http_send_timeout_seconds

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._unsent = self._unsent_bytes()
            self._send_timer = self.loop.call_later(self._send_timeout, self._check_sending)

    def _unsent_bytes(self) -> int:
        """What the client has not read yet: the transport's buffer and the kernel's send
        queue (the transport's shrinks only once the kernel's is well drained)."""
        unsent = self.transport.get_write_buffer_size()
        sock = self.transport.get_extra_info("socket")
        if sock is not None and hasattr(termios, "TIOCOUTQ"):
            with suppress(OSError):
                queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
                unsent += int.from_bytes(queued, sys.byteorder)
        return unsent

    def _check_sending(self) -> None:
        """While writing is paused the application adds nothing: fewer unsent bytes mean
        the client read some. A client that reads, however slowly, keeps its connection."""
        unsent = self._unsent_bytes()
        if unsent < self._unsent:
            self._unsent = unsent
            self._send_timer = self.loop.call_later(self._send_timeout, self._check_sending)
            return
        self._send_timer = None
        if self.cycle is not None:  # the application's further sends do nothing
            self.cycle.disconnected = True
        self.transport.abort()

    def resume_writing(self) -> None:
        self._stop_send_timer()
        super().resume_writing()

    def _stop_send_timer(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._stop_send_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_headers()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._stop_header_timer()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        super().data_received(data)
        if self._reading_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header_bytes:
                self._refuse(
                    refusal(
                        431,
                        b"Request Header Fields Too Large",
                        HEADER_TOO_LARGE,
                        f"The request's headers exceed {self._max_header_bytes} bytes.",
                    )
                )

    def _start_headers(self) -> None:
        self._reading_headers = True
        self._header_bytes = 0
        self._stop_header_timer()
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
        self.transport.write(response)
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
