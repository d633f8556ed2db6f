"""A connection whose client reads less than `MIN_READ_BYTES_PER_SECOND` of a full write
buffer over `HTTP_SEND_TIMEOUT_SECONDS` is dropped, in Uvicorn's HTTP and WebSocket
protocols alike, and reset: what the kernel still held for it is freed at once.

asyncio tells a protocol when its transport's buffer passes the high-water mark
(`pause_writing`) and when it drains (`resume_writing`); Uvicorn then only waits, for as
long as the client takes. A client that never reads would hold its connection, what was
written for it, and (over a WebSocket) its subscriptions for good. Overriding the
protocols' callbacks is no public API of Uvicorn's: this mixin is used by the quarantined
protocols only (`uvicorn_headers.py`, `uvicorn_websockets.py`)."""

import asyncio
import fcntl
import socket
import struct
import sys
import termios
from contextlib import suppress
from typing import Any

from engagement_api.settings import get_settings

MIN_READ_BYTES_PER_SECOND = 1024
"""What a client must take, on average over each period of the send timeout, to keep its
connection: a kernel may still accept a few bytes for a client that reads nothing (window
probes, its receive queue compacted), which must not count as reading."""
RESET = struct.pack("ii", 1, 0)
"""SO_LINGER on with no delay: `close` resets the connection and drops its unsent bytes.
Closed the plain way, the kernel would keep them (up to its largest send buffer) and go on
offering them to the client, whose socket stays open, for minutes."""


class SendTimeout(asyncio.Protocol):
    """Put before a Uvicorn protocol class: `class P(SendTimeout, UvicornProtocol)`."""

    loop: asyncio.AbstractEventLoop
    transport: Any
    _send_timer: asyncio.TimerHandle | None = None
    _unsent = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._send_timeout = get_settings().http_send_timeout_seconds

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._unsent = self._unsent_bytes()
            self._send_timer = self.loop.call_later(self._send_timeout, self._check_sending)

    def resume_writing(self) -> None:
        self._stop_send_timer()
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_send_timer()
        super().connection_lost(exc)

    def _send_timed_out(self) -> None:
        """What the protocol marks before the connection is dropped (nothing by default:
        its `connection_lost` follows)."""

    def _unsent_bytes(self) -> int:
        """What the client has not read yet: the transport's buffer and the kernel's send
        queue (the transport's shrinks only once the kernel's is well drained)."""
        unsent = int(self.transport.get_write_buffer_size())
        sock = self.transport.get_extra_info("socket")
        if sock is not None and hasattr(termios, "TIOCOUTQ"):
            with suppress(OSError):
                queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
                unsent += int.from_bytes(queued, sys.byteorder)
        return unsent

    def _check_sending(self) -> None:
        """While writing is paused the application adds nothing: fewer unsent bytes mean
        the client read some. A client that reads at least `MIN_READ_BYTES_PER_SECOND`,
        however much slower than the server writes, keeps its connection."""
        unsent = self._unsent_bytes()
        if self._unsent - unsent >= MIN_READ_BYTES_PER_SECOND * self._send_timeout:
            self._unsent = unsent
            self._send_timer = self.loop.call_later(self._send_timeout, self._check_sending)
            return
        self._send_timer = None
        self._send_timed_out()
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        self.transport.abort()

    def _stop_send_timer(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
