"""A client that reads nothing of a large answer holds it only until
HTTP_SEND_TIMEOUT_SECONDS pass: its connection is reset (the kernel keeps nothing of the
answer for it either) and the answer's memory is freed. A client that reads slowly, but
reads, gets the whole answer."""

import asyncio
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest

from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import post, thread
from tests.raw_http import GUARD_SECONDS

SEND_TIMEOUT = 2
CONTENT = "z" * 20_000
IDS = 1_000
LARGE_ALIASES = 6
"""About 120 MB of answer: each alias repeats the message a thousand times."""
TCP_CLOSE = 7
"""`tcpi_state` of a socket its peer reset (linux/tcp_states.h)."""


@pytest.fixture(scope="module")
def sending_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "sending",
        HTTP_SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT),
        MAX_RESPONSE_BYTES=str(512 * 1024 * 1024),
    )


def rss(server: RunningServer) -> int:
    """The server process's resident memory, in bytes."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def tcp_state(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    state: int = struct.unpack("B", info[:1])[0]
    return state


async def repeated_message_request(
    world: World, gql: GraphQLClient, server: RunningServer, aliases: int
) -> bytes:
    """A raw HTTP request whose answer repeats one 20,000-character message a thousand
    times per alias."""
    feed = await thread(world)
    message = await post(
        GraphQLClient(gql.http, server.graphql_url), feed.staff, feed.conversation, CONTENT
    )
    fields = " ".join(
        f"a{n}: nodes(ids: $ids) {{ ... on Message {{ content }} }}" for n in range(aliases)
    )
    body = orjson.dumps(
        {"query": f"query($ids: [ID!]!) {{ {fields} }}", "variables": {"ids": [message] * IDS}}
    )
    head = (
        "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {feed.staff.token}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def small_window_socket(server: RunningServer) -> socket.socket:
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", urlsplit(server.url).port or 80))
    return raw


async def test_a_client_that_reads_nothing_of_a_large_answer_is_reset_and_its_memory_freed(
    world: World, gql: GraphQLClient, sending_server: RunningServer
) -> None:
    """Closed the plain way, the connection stayed open for minutes: the kernel kept
    offering the client the rest of its send buffer."""
    request = await repeated_message_request(world, gql, sending_server, LARGE_ALIASES)
    before = rss(sending_server)
    raw = small_window_socket(sending_server)
    try:
        raw.sendall(request)
        peak = before
        async with asyncio.timeout(GUARD_SECONDS):
            while tcp_state(raw) != TCP_CLOSE:
                peak = max(peak, rss(sending_server))
                await asyncio.sleep(0.1)
        reset = time.monotonic()
        async with asyncio.timeout(GUARD_SECONDS):
            while rss(sending_server) > before + (peak - before) // 4:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        freed_within = time.monotonic() - reset
    finally:
        raw.close()
    assert peak - before > 100_000_000  # the answer was built, and held
    assert freed_within < SEND_TIMEOUT


async def test_a_client_that_reads_a_few_kilobytes_a_second_gets_the_whole_answer(
    world: World, gql: GraphQLClient, sending_server: RunningServer
) -> None:
    """Four kilobytes a second for four periods of the send timeout, then the rest at
    once: the client was slow, not gone."""
    request = await repeated_message_request(world, gql, sending_server, 1)
    raw = small_window_socket(sending_server)
    raw.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(raw, request)
    received = bytearray()
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            slow_until = time.monotonic() + 4 * SEND_TIMEOUT
            while time.monotonic() < slow_until:
                chunk = await loop.sock_recv(raw, 1_000)
                assert chunk, len(received)
                received += chunk
                await asyncio.sleep(0.25)
            head = bytes(received).partition(b"\r\n\r\n")[0]
            length = int(head.lower().partition(b"content-length: ")[2].split()[0])
            while len(received) < len(head) + 4 + length:
                chunk = await loop.sock_recv(raw, 1 << 20)
                assert chunk, len(received)
                received += chunk
    finally:
        raw.close()
    answer = orjson.loads(bytes(received).partition(b"\r\n\r\n")[2])
    assert answer["data"]["a0"] == [{"content": CONTENT}] * IDS
