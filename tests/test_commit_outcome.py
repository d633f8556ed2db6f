"""A connection lost during COMMIT: the write may have committed, and then it must not be
answered as a failure (the client would post it twice).

A TCP proxy between the session and PostgreSQL forwards the first COMMIT of a connection
and then cuts that connection's client side at once: PostgreSQL commits, the driver never
reads the answer. The session asks another connection for the transaction's outcome.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
from sqlalchemy import text

from engagement_api.db.engine import EngineOptions, create_engine
from engagement_api.db.enums import Role
from engagement_api.db.session import DatabaseSession
from tests.factories import World

COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
"""The simple-query message the session sends to commit."""


@contextlib.asynccontextmanager
async def commit_cutting_proxy(url: str) -> AsyncIterator[tuple[int, list[int]]]:
    """(proxy port, [cuts made]): the first COMMIT seen is forwarded, then the client side
    of that connection is closed."""
    cuts: list[int] = []

    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        server_reader, server_writer = await _open_server(url)
        cut = asyncio.Event()

        async def upstream() -> None:
            while data := await client_reader.read(65536):
                server_writer.write(data)
                await server_writer.drain()
                if COMMIT in data and not cuts:
                    cuts.append(1)
                    cut.set()
                    client_writer.transport.abort()
                    return

        async def downstream() -> None:
            while not cut.is_set() and (data := await server_reader.read(65536)):
                if cut.is_set():
                    return
                client_writer.write(data)
                await client_writer.drain()

        with contextlib.suppress(OSError, ConnectionError):
            await asyncio.gather(upstream(), downstream())
        await asyncio.sleep(0.5)  # let PostgreSQL finish the commit before it sees EOF
        server_writer.close()

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy_port = proxy.sockets[0].getsockname()[1]
    async with proxy:
        yield proxy_port, cuts


async def _open_server(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the database server of `url` (TCP, or its Unix socket)."""
    parts = urlsplit(url)
    port = parts.port or 5432
    socket_directory = parse_qs(parts.query).get("host", [""])[0]
    if socket_directory.startswith("/"):
        return await asyncio.open_unix_connection(f"{socket_directory}/.s.PGSQL.{port}")
    return await asyncio.open_connection(parts.hostname or "127.0.0.1", port)


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'root'}@127.0.0.1:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))  # TCP, through the proxy


async def test_a_commit_whose_answer_was_lost_is_not_reported_as_a_failure(
    world: World, database_url: str
) -> None:
    org = await world.organization("Commit")
    staff = await world.user(org, Role.STAFF)
    marker = uuid.uuid4()
    async with commit_cutting_proxy(database_url) as (
        port,
        cuts,
    ):
        engine = create_engine(_through(database_url, port), EngineOptions(pool_size=2))
        session = DatabaseSession(engine)
        try:
            await session.open_for_viewer(staff.id)
            await session.execute(
                text(
                    "INSERT INTO message_events"
                    " (conversation_id, org_id, kind, message_id, is_internal)"
                    " VALUES (gen_random_uuid(), :org, 'POSTED', :marker, false)"
                ),
                {"org": org.id, "marker": marker},
            )
            await session.close()  # raises SERVICE_UNAVAILABLE if it reports a failure
        finally:
            await engine.dispose()
    connection = await asyncpg.connect(database_url)
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM message_events WHERE message_id = $1", marker
        )
    finally:
        await connection.close()
    assert (cuts, stored) == ([1], 1)
