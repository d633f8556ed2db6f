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
from engagement_api.db.tenancy import APP_ROLE
from engagement_api.errors import ClientError
from tests.factories import Made, World

COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
"""The simple-query message the session sends to commit."""


@contextlib.asynccontextmanager
async def commit_cutting_proxy(
    url: str, *, then_unreachable: bool = False
) -> AsyncIterator[tuple[int, list[int]]]:
    """(proxy port, [cuts made]): the first COMMIT seen is forwarded, then the client side
    of that connection is closed; `then_unreachable`: every connection after the cut is
    closed at once (the database out of reach, as in a failover)."""
    cuts: list[int] = []

    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if cuts and then_unreachable:
            client_writer.transport.abort()
            return
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


async def _write_through(
    url: str, org: Made, staff: Made, marker: uuid.UUID, table: str = "message_events"
) -> ClientError | None:
    """One write in a session through `url`; the error its close answered, if any."""
    engine = create_engine(url, EngineOptions(pool_size=2))
    session = DatabaseSession(engine)
    try:
        await session.open_for_viewer(staff.id)
        if table == "message_events":
            await session.execute(
                text(
                    "INSERT INTO message_events"
                    " (conversation_id, org_id, kind, message_id, is_internal)"
                    " VALUES (gen_random_uuid(), :org, 'POSTED', :marker, false)"
                ),
                {"org": org.id, "marker": marker},
            )
        else:
            await session.execute(text(f"INSERT INTO {table} VALUES (:marker)"), {"marker": marker})
        await session.close()
    except ClientError as error:
        return error
    finally:
        await engine.dispose()
    return None


async def _stored(database_url: str, marker: uuid.UUID, table: str = "message_events") -> int:
    column = "message_id" if table == "message_events" else "marker"
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            f"SELECT count(*) FROM {table} WHERE {column} = $1", marker
        )
    finally:
        await connection.close()
    return count


async def test_a_commit_whose_answer_was_lost_is_not_reported_as_a_failure(
    world: World, database_url: str
) -> None:
    org = await world.organization("Commit")
    staff = await world.user(org, Role.STAFF)
    marker = uuid.uuid4()
    async with commit_cutting_proxy(database_url) as (port, cuts):
        answered = await _write_through(_through(database_url, port), org, staff, marker)
    assert (cuts, answered, await _stored(database_url, marker)) == ([1], None, 1)


async def test_a_commit_whose_outcome_cannot_be_learnt_is_answered_as_unknown(
    world: World, database_url: str
) -> None:
    """Committed, then the database out of reach: not a failure to retry (the write is
    saved; a retry would write it twice), not a success either: unknown, not retryable."""
    org = await world.organization("Commit")
    staff = await world.user(org, Role.STAFF)
    marker = uuid.uuid4()
    async with commit_cutting_proxy(database_url, then_unreachable=True) as (port, cuts):
        answered = await _write_through(_through(database_url, port), org, staff, marker)
    assert answered is not None
    assert (cuts, answered.extensions) == (
        [1],
        {"code": "COMMIT_OUTCOME_UNKNOWN", "retryable": False},
    )
    assert await _stored(database_url, marker) == 1


SLOW_COMMIT = [
    "CREATE TABLE slow_commit (marker uuid PRIMARY KEY)",
    "CREATE FUNCTION slow_commit_wait() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN PERFORM pg_sleep(4); RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER slow_commit_wait AFTER INSERT ON slow_commit"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_wait()",
    f"GRANT SELECT, INSERT ON slow_commit TO {APP_ROLE}",
]
"""A table whose inserts make COMMIT take 4 s (a deferred trigger runs at COMMIT)."""


async def test_a_commit_still_running_when_its_connection_is_lost_is_answered_as_it_ends(
    world: World, database_url: str
) -> None:
    """The COMMIT outlives the outcome's first look: the answer must still match what the
    database kept (the session stops the transaction, or waits for its COMMIT to end)."""
    org = await world.organization("Commit")
    staff = await world.user(org, Role.STAFF)
    marker = uuid.uuid4()
    connection = await asyncpg.connect(database_url)
    try:
        for statement in SLOW_COMMIT:
            await connection.execute(statement)
        async with commit_cutting_proxy(database_url) as (port, cuts):
            answered = await _write_through(
                _through(database_url, port), org, staff, marker, "slow_commit"
            )
        stored = await _stored(database_url, marker, "slow_commit")
    finally:
        await connection.execute("DROP TABLE slow_commit; DROP FUNCTION slow_commit_wait()")
        await connection.close()
    assert cuts == [1]
    if stored:
        assert answered is None
    else:
        assert answered is not None
        assert answered.extensions == {"code": "SERVICE_UNAVAILABLE", "retryable": True}
