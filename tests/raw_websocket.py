"""A raw WebSocket connection to the running server: the opening handshake, then exactly
the frames a hostile or broken client would write (any opcode, flag, mask, length form or
payload), and the server's frames read back one by one.

Every wait is bounded by `GUARD_SECONDS`, so a server that never answers fails the test
instead of hanging it.
"""

import asyncio
import base64
import contextlib
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.raw_http import GUARD_SECONDS, RawConnection

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


@dataclass(frozen=True)
class Frame:
    """A frame as written: `declared` overrides the payload's length in the header (a
    client announcing more than it sends), `length_form` spells the length in 7, 16 or 64
    bits whatever its size (`None`: the shortest)."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    masked: bool = True
    length_form: int | None = None
    declared: int | None = None

    def encode(self) -> bytes:
        length = len(self.payload) if self.declared is None else self.declared
        form = self.length_form or (7 if length < 126 else 16 if length < 65536 else 64)
        head = bytes([(0x80 if self.fin else 0) | (self.rsv << 4) | self.opcode])
        mask_bit = 0x80 if self.masked else 0
        if form == 7:
            head += bytes([mask_bit | length])
        elif form == 16:
            head += bytes([mask_bit | 126]) + length.to_bytes(2, "big")
        else:
            head += bytes([mask_bit | 127]) + length.to_bytes(8, "big")
        if not self.masked:
            return head + self.payload
        key = os.urandom(4)
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(self.payload))


@dataclass(frozen=True)
class Received:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return int.from_bytes(self.payload[:2], "big") if len(self.payload) >= 2 else None


class RawWebSocket:
    def __init__(self, connection: RawConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str, subprotocol: str = "graphql-transport-ws") -> "RawWebSocket":
        """Connects and completes the opening handshake for `subprotocol`."""
        connection = await RawConnection.open(url)
        key = base64.b64encode(os.urandom(16)).decode()
        head = [
            f"GET {urlsplit(url).path} HTTP/1.1",
            f"host: {connection.host}",
            "upgrade: websocket",
            "connection: Upgrade",
            f"sec-websocket-key: {key}",
            "sec-websocket-version: 13",
            f"sec-websocket-protocol: {subprotocol}",
        ]
        await connection.send_raw("\r\n".join(head).encode() + b"\r\n\r\n")
        response = await asyncio.wait_for(connection.reader.readuntil(b"\r\n\r\n"), GUARD_SECONDS)
        if not response.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"the handshake failed: {response!r}")
        return cls(connection)

    async def send(self, *frames: Frame) -> None:
        """Writes the frames; a server that has closed the connection meanwhile is no error
        (what it answered is still read by `receive`)."""
        with contextlib.suppress(ConnectionError):
            await self.connection.send_raw(b"".join(frame.encode() for frame in frames))

    async def receive(self) -> Received | None:
        """The server's next frame, or None once the connection has ended."""
        reader = self.connection.reader
        try:
            async with asyncio.timeout(GUARD_SECONDS):
                head = await reader.readexactly(2)
                length = head[1] & 0x7F
                if length >= 126:
                    size = 2 if length == 126 else 8
                    length = int.from_bytes(await reader.readexactly(size), "big")
                if head[1] & 0x80:
                    raise AssertionError("the server masked a frame")
                return Received(head[0] & 0x0F, await reader.readexactly(length))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def close(self) -> None:
        await self.connection.close()
