"""Backends terminated under load: writes and subscriptions while `pg_terminate_backend`
kills every connection of the server's database, again and again (listener, outbox
reader, pooled request connections). Then sockets close in the middle of a delivery to
2,000 subscriptions.

Each scenario runs on a database of its own, so that "every backend of the database" is
exactly the server's. Outcomes counted: acknowledged writes that are missing (0), HTTP
statuses other than 200 (0), INTERNAL_SERVER_ERROR (0), events of acknowledged writes a
subscriber never received (0), and connections left `idle in transaction` or `active`
once the load has stopped (0). The figures are in docs/security.md ("Faults").
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from engagement_api.db import migrate
from engagement_api.db.engine import create_engine
from engagement_api.db.enums import Role
from tests.conftest import RunningServer, start_server, stop_server
from tests.databases import create_database, drop_database
from tests.factories import Made, World
from tests.test_faults import Load
from tests.ws_client import GraphQLWebSocket, wait_until_subscribed

TERMINATIONS = 12
TERMINATION_PAUSE_SECONDS = 0.25
SETTLE_SECONDS = 20.0
SUBSCRIBER_SOCKETS = 2
SUBSCRIPTIONS_PER_SOCKET = 5
FEED = """subscription Feed($id: ID!) {
  messageEvents(conversationId: $id) { kind cursor message { id content sender { id } } }
}"""


@dataclass
class FaultWorld:
    url: str
    server: RunningServer
    staff: Made
    client: Made
    conversation: Made


@contextlib.asynccontextmanager
async def fault_world(directory: Path, **environment: str) -> AsyncIterator[FaultWorld]:
    url = await create_database("backends")
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    world = World(engine)
    org = await world.organization("Backends")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    conversation = await world.conversation(await world.engagement(org, client))
    await engine.dispose()
    server = start_server(
        url,
        str(directory / "server.log"),
        DB_CONNECT_TIMEOUT_SECONDS="2",
        DB_POOL_TIMEOUT_SECONDS="2",
        **environment,
    )
    try:
        yield FaultWorld(url, server, staff, client, conversation)
    finally:
        stop_server(server)
        await drop_database(url)


async def _terminate_all(url: str) -> int:
    """Terminate every other backend connected to this database; how many."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return sum(1 for row in rows if row[0])


async def _busy_connections(url: str) -> list[tuple[str, str]]:
    """(state, application) of every other backend of the database that is not idle."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT state, application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'"
            " AND query NOT ILIKE 'LISTEN%'"
        )
    finally:
        await connection.close()
    return [(str(row[0]), str(row[1])) for row in rows]


async def _settled(url: str) -> list[tuple[str, str]]:
    """The busy connections once they stop changing for the better (bounded wait)."""
    busy = await _busy_connections(url)
    async with asyncio.timeout(SETTLE_SECONDS):
        while busy:
            await asyncio.sleep(0.2)
            busy = await _busy_connections(url)
    return busy


async def _message_ids(url: str, conversation: Made) -> dict[str, str]:
    """content -> global id of every stored message of the conversation."""
    from engagement_api.schema.ids import to_global_id

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id, content FROM conversation_messages WHERE conversation_id = $1",
            conversation.id,
        )
    finally:
        await connection.close()
    return {row["content"]: to_global_id("Message", row["id"]) for row in rows}


@dataclass
class TerminationOutcome:
    acknowledged: set[str]
    refused: set[str]
    stored: dict[str, str]
    statuses: set[tuple[int | None, str | None]]
    codes: set[str]
    terminated: int
    received: list[set[str]]
    busy_after: list[tuple[str, str]]
    server_log: str


@pytest.fixture(scope="module")
async def terminations(tmp_path_factory: pytest.TempPathFactory) -> TerminationOutcome:
    directory = tmp_path_factory.mktemp("backends")
    async with (
        fault_world(directory) as fw,
        httpx.AsyncClient() as http,
        contextlib.AsyncExitStack() as sockets,
    ):
        feeds: list[tuple[GraphQLWebSocket, str]] = []
        for _ in range(SUBSCRIBER_SOCKETS):
            ws = await sockets.enter_async_context(
                GraphQLWebSocket.open(fw.server.graphql_url, token=fw.client.token)
            )
            for _ in range(SUBSCRIPTIONS_PER_SOCKET):
                feeds.append((ws, await ws.subscribe(FEED, {"id": fw.conversation.gid})))
        await wait_until_subscribed(fw.server.url, len(feeds))
        load = Load(http, fw.server.graphql_url, fw.staff.token, fw.conversation.gid)
        running = asyncio.create_task(load.run())
        terminated = 0
        try:
            await load.until(lambda: load.count("before", lambda o: o.acknowledged) >= 10)
            load.phase = "terminations"
            for _ in range(TERMINATIONS):
                terminated += await _terminate_all(fw.url)
                await asyncio.sleep(TERMINATION_PAUSE_SECONDS)
            load.phase = "after"
            await load.until(lambda: load.count("after", lambda o: o.acknowledged) >= 10)
        finally:
            load.stopping = True
            await running
        acknowledged = {o.content for o in load.outcomes if o.acknowledged and o.content}
        stored = await _message_ids(fw.url, fw.conversation)
        wanted = {stored[c] for c in acknowledged if c in stored}
        received: list[set[str]] = []
        for ws, operation in feeds:  # every acknowledged message reaches every subscription
            seen: set[str] = set()
            with contextlib.suppress(TimeoutError):
                while not wanted <= seen:
                    message = await ws.next(operation)
                    payload = message.get("payload") or {}
                    event = (payload.get("data") or {}).get("messageEvents") or {}
                    if event.get("message"):
                        seen.add(event["message"]["id"])
            received.append(seen & wanted)
        busy_after = await _settled(fw.url)
        refused = sum(1 for o in load.outcomes if o.codes)
        print(  # the figures of docs/security.md ("Faults"), with `-s`
            f"\nterminations: {terminated} backends terminated in {TERMINATIONS} rounds;"
            f" {len(load.outcomes)} requests, {len(acknowledged)} writes acknowledged,"
            f" {refused} refused; {len(feeds)} subscriptions received"
            f" {sorted({len(seen) for seen in received})} of {len(wanted)} messages;"
            f" busy connections after: {len(busy_after)}"
        )
        return TerminationOutcome(
            acknowledged=acknowledged,
            refused={o.content for o in load.outcomes if o.codes and o.content},
            stored=stored,
            statuses={(o.status, o.transport_error) for o in load.outcomes},
            codes={code for o in load.outcomes for code in o.codes},
            terminated=terminated,
            received=received,
            busy_after=busy_after,
            server_log=fw.server.logs(),
        )


def test_terminations_hit_the_servers_connections(terminations: TerminationOutcome) -> None:
    assert terminations.terminated >= TERMINATIONS  # the listener at least, every round


def test_no_acknowledged_write_is_lost(terminations: TerminationOutcome) -> None:
    assert len(terminations.acknowledged) >= 20
    assert terminations.acknowledged - set(terminations.stored) == set()


def test_no_refused_write_was_committed(terminations: TerminationOutcome) -> None:
    """A write answered as a failure must not be in the database (the client retries it)."""
    assert terminations.refused
    assert terminations.refused & set(terminations.stored) == set()


def test_every_failure_is_a_retryable_service_unavailable(
    terminations: TerminationOutcome,
) -> None:
    assert terminations.statuses == {(200, None)}
    assert terminations.codes <= {"SERVICE_UNAVAILABLE"}


def test_every_subscription_receives_every_acknowledged_message(
    terminations: TerminationOutcome,
) -> None:
    wanted = {terminations.stored[c] for c in terminations.acknowledged}
    assert [len(seen) for seen in terminations.received] == [len(wanted)] * len(
        terminations.received
    )


def test_no_connection_is_left_busy_or_reclaimed_by_the_garbage_collector(
    terminations: TerminationOutcome,
) -> None:
    assert terminations.busy_after == []
    assert "non-checked-in connection" not in terminations.server_log
    assert "Traceback" not in terminations.server_log or "INTERNAL" not in terminations.server_log


# 100 sockets x 20 subscriptions, closed in the middle of a delivery -----------------------

SOCKETS = 100
PER_SOCKET = 20
POSTS = 3


@pytest.fixture(scope="module")
def storm_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storm")


async def test_sockets_closed_mid_delivery_leave_no_connection_checked_out(
    storm_directory: Path,
) -> None:
    async with (
        fault_world(
            storm_directory,
            MAX_SUBSCRIPTIONS_PER_VIEWER=str(SOCKETS * PER_SOCKET),
            MAX_SUBSCRIPTIONS_PER_CONNECTION=str(PER_SOCKET),
        ) as fw,
        httpx.AsyncClient(timeout=30) as http,
    ):
        before = _feed_status(fw.server)
        async with contextlib.AsyncExitStack() as sockets:
            for _ in range(SOCKETS):
                ws = await sockets.enter_async_context(
                    GraphQLWebSocket.open(fw.server.graphql_url, token=fw.client.token)
                )
                for _ in range(PER_SOCKET):
                    await ws.subscribe(FEED, {"id": fw.conversation.gid})
            await wait_until_subscribed(fw.server.url, SOCKETS * PER_SOCKET)
            for n in range(POSTS):
                response = await http.post(
                    fw.server.graphql_url,
                    json={
                        "query": "mutation($i: PostMessageInput!) { postMessage(input: $i)"
                        " { message { id } errors { code } } }",
                        "variables": {
                            "i": {"conversationId": fw.conversation.gid, "content": f"storm {n}"}
                        },
                    },
                    headers={"authorization": f"Bearer {fw.staff.token}"},
                )
                assert response.json()["data"]["postMessage"]["errors"] == []
            # the sockets close now, while deliveries are under way
        busy_after = await _settled(fw.url)
        after = _feed_status(fw.server)
        log = fw.server.logs()
    assert busy_after == []
    assert after["subscribers"] == 0
    assert "non-checked-in connection" not in log
    # resolved per audience: a batch or two per post, not one per subscriber
    assert after["resolutions"] - before["resolutions"] <= POSTS


def _feed_status(server: RunningServer) -> dict[str, int]:
    body = httpx.get(f"{server.url}/healthz", timeout=10).json()["liveFeed"]
    return {"subscribers": int(body["subscribers"]), "resolutions": int(body["resolutions"])}
