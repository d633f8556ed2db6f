"""A raw HTTP/1.1 connection to the running server: send exactly the bytes a hostile or
broken client would, read the answer, and reuse the same keep-alive connection.

h11 parses the server's responses (chunked or not). Every wait is bounded by
`GUARD_SECONDS`, so a server that never answers fails the test instead of hanging it.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11
import orjson

GUARD_SECONDS = 20.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def codes(self) -> list[str | None]:
        body = self.json()
        return [(error.get("extensions") or {}).get("code") for error in body.get("errors", [])]


class RawConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = h11.Connection(h11.CLIENT)
        self.host = "127.0.0.1"

    @classmethod
    async def open(cls, url: str) -> "RawConnection":
        parts = urlsplit(url)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), GUARD_SECONDS
        )
        return cls(reader, writer)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), GUARD_SECONDS)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), GUARD_SECONDS)

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Sends one request with `Content-Length` (the bytes as given) and reads the answer."""
        head = [f"{method} {path} HTTP/1.1", f"host: {self.host}"]
        every = {"content-length": str(len(body)), **(headers or {})}
        head += [f"{name}: {value}" for name, value in every.items()]
        await self.send_raw("\r\n".join(head).encode() + b"\r\n\r\n" + body)
        return await self.answer(method)

    async def answer(self, method: str = "GET") -> Answer:
        """The next response on the connection, to a request of `method` (a HEAD's has no
        body)."""
        if self.parser.our_state is h11.DONE and self.parser.their_state is h11.DONE:
            self.parser.start_next_cycle()
        if self.parser.our_state is h11.IDLE:  # h11 tracks the client side too
            self.parser.send(h11.Request(method=method, target="/", headers=[("host", "x")]))
            self.parser.send(h11.EndOfMessage())
        return await asyncio.wait_for(self._read(), GUARD_SECONDS)

    async def _read(self) -> Answer:
        status, headers, body = 0, {}, b""
        while True:
            event = self.parser.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65_536)
                self.parser.receive_data(data)
                if not data and self.parser.their_state is not h11.DONE:
                    raise ConnectionResetError("the server closed the connection")
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {name.decode(): value.decode() for name, value in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return Answer(status, headers, body)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection")
