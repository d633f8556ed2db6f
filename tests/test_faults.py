"""PostgreSQL crashes under load.

A private PostgreSQL (the embedded server, in a temporary directory this test owns; the
shared server at 127.0.0.1:5432 is never touched) serves a real `engagement-api serve`.
Writers post messages and a reader pages a thread while the test crashes PostgreSQL
(`pg_ctl stop -m immediate`) and starts it again. The scenario runs once per module; each
test asserts one of its outcomes.

Phases are driven by what the load observes (acknowledged writes, refused requests,
/readyz answers), each wait bounded; no outcome depends on timing.
"""

import asyncio
import contextlib
import itertools
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from engagement_api.db import migrate
from engagement_api.db.embedded import embedded_server_url, start_embedded_postgres
from engagement_api.db.engine import EngineOptions, create_engine
from engagement_api.db.enums import Role
from engagement_api.db.models import Message
from engagement_api.db.session import DatabaseSession
from engagement_api.errors import ServiceUnavailableError
from tests.conftest import RunningServer, own_server
from tests.factories import World
from tests.mutations import PROJECT_AND_POST
from tests.ws_client import GraphQLWebSocket

WRITERS = 4
ACKNOWLEDGED_PER_PHASE = 20
REFUSED_DURING_OUTAGE = 10
PHASE_TIMEOUT_SECONDS = 60
CLIENT_TIMEOUT_SECONDS = 15
"""Longer than any server-side bound (connect 2 s, pool 2 s); a hang would show as a timeout."""

POST = """mutation($input: PostMessageInput!) {
  postMessage(input: $input) { message { id content } errors { code message } } }"""
THREAD = """query($id: ID!) { conversation(id: $id) {
  messages(last: 20) { totalCount edges { node { id content } } } } }"""


@dataclass
class Outcome:
    phase: str
    kind: str
    status: int | None
    codes: tuple[str, ...] = ()
    retryable: bool = False
    content: str | None = None
    acknowledged: bool = False
    transport_error: str | None = None
    leaked: bool = False


@dataclass
class Observations:
    outcomes: list[Outcome] = field(default_factory=list)
    readiness: dict[str, set[int]] = field(default_factory=dict)
    stored_contents: set[str] = field(default_factory=set)
    server_pids: tuple[int, int] = (0, 0)

    def of(self, phase: str, kind: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.phase == phase and kind in (None, o.kind)]


class Load:
    """Writers and a reader against the server; outcomes recorded per phase."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str, conversation: str):
        """Args:
        http: the client the load uses.
        url: the server's /graphql URL.
        token: a STAFF viewer's token.
        conversation: the global ID of the conversation written to and read.
        """
        self.http, self.url, self.token, self.conversation = http, url, token, conversation
        self.phase = "before"
        self.outcomes: list[Outcome] = []
        self.changed = asyncio.Condition()
        self.stopping = False

    async def run(self) -> None:
        await asyncio.gather(*(self._writer() for _ in range(WRITERS)), self._reader())

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
            async with self.changed:
                await self.changed.wait_for(predicate)

    def count(self, phase: str, test: Callable[[Outcome], bool]) -> int:
        return sum(1 for o in self.outcomes if o.phase == phase and test(o))

    async def _writer(self) -> None:
        while not self.stopping:
            content = f"fault-{uuid.uuid4().hex}"
            variables = {"input": {"conversationId": self.conversation, "content": content}}
            outcome = await self._request("write", POST, variables)
            outcome.content = content
            await self._record(outcome)

    async def _reader(self) -> None:
        while not self.stopping:
            await self._record(await self._request("read", THREAD, {"id": self.conversation}))

    async def _request(self, kind: str, query: str, variables: dict[str, Any]) -> Outcome:
        phase = self.phase
        try:
            response = await self.http.post(
                self.url,
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {self.token}"},
                timeout=CLIENT_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            return Outcome(phase, kind, None, transport_error=type(error).__name__)
        try:
            body = response.json()
        except ValueError:
            return Outcome(phase, kind, response.status_code, codes=("NOT_JSON",), leaked=True)
        errors = body.get("errors") or []
        codes = tuple(str(e.get("extensions", {}).get("code")) for e in errors)
        payload = (body.get("data") or {}).get("postMessage") or {}
        return Outcome(
            phase,
            kind,
            response.status_code,
            codes=codes,
            retryable=all(e.get("extensions", {}).get("retryable") for e in errors),
            acknowledged=not errors and payload.get("message") is not None,
            leaked=any(word in response.text for word in ("Traceback", "asyncpg", "SELECT")),
        )

    async def _record(self, outcome: Outcome) -> None:
        async with self.changed:
            self.outcomes.append(outcome)
            self.changed.notify_all()


@dataclass
class PrivatePostgres:
    handle: Any
    directory: Path

    def url(self, database: str) -> str:
        return embedded_server_url(self.handle, database)

    def crash(self) -> None:
        self._pg_ctl(["-w", "-m", "immediate", "stop"])

    def start(self) -> None:
        self.handle.ensure_postgres_running()

    def _pg_ctl(self, arguments: list[str]) -> None:
        # The module sets one function per bundled binary at import: none is declared.
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(arguments, pgdata=self.handle.pgdata, user=self.handle.system_user, timeout=30)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    directory = Path(tempfile.mkdtemp(prefix="engagement-faults-"))
    directory.chmod(0o755)  # the server runs as its own system user when we are root
    handle = start_embedded_postgres(directory / "data")
    yield PrivatePostgres(handle, directory)
    handle.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
async def fault_database(private_postgres: PrivatePostgres) -> str:
    connection = await asyncpg.connect(private_postgres.url("postgres"))
    try:
        await connection.execute('CREATE DATABASE "faults"')
    finally:
        await connection.close()
    url = private_postgres.url("faults")
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="module")
def fault_server(
    fault_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        fault_database,
        tmp_path_factory,
        "faults",
        DB_CONNECT_TIMEOUT_SECONDS="2",
        DB_POOL_TIMEOUT_SECONDS="2",
    )


async def _readiness(http: httpx.AsyncClient, server: RunningServer) -> int:
    try:
        response = await http.get(f"{server.url}/readyz", timeout=CLIENT_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return 0
    return response.status_code


async def _wait_readiness(http: httpx.AsyncClient, server: RunningServer, status: int) -> None:
    """Poll /readyz (another process: there is no event to await) until it answers `status`."""
    async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
        for attempt in itertools.count():
            if await _readiness(http, server) == status:
                return
            await asyncio.sleep(min(0.05 * attempt, 0.5))


@pytest.fixture(scope="module")
async def observations(
    private_postgres: PrivatePostgres, fault_database: str, fault_server: RunningServer
) -> Observations:
    engine = create_engine(fault_database, EngineOptions(pre_ping=True))  # outlives the crash
    world = World(engine)
    org = await world.organization("Faults")
    staff = await world.user(org, Role.STAFF)
    conversation = await world.conversation(
        await world.engagement(org, await world.user(org, Role.CLIENT))
    )
    seen = Observations()
    async with httpx.AsyncClient() as http:
        seen.readiness["before"] = {await _readiness(http, fault_server)}
        load = Load(http, fault_server.graphql_url, staff.token, conversation.gid)
        running = asyncio.create_task(load.run())
        pid_before = fault_server.process.pid
        try:
            await load.until(
                lambda: load.count("before", lambda o: o.acknowledged) >= ACKNOWLEDGED_PER_PHASE
            )
            load.phase = "outage"
            await asyncio.to_thread(private_postgres.crash)
            await load.until(
                lambda: load.count("outage", lambda o: bool(o.codes)) >= REFUSED_DURING_OUTAGE
            )
            seen.readiness["outage"] = {await _readiness(http, fault_server)}
            await asyncio.to_thread(private_postgres.start)
            await _wait_readiness(http, fault_server, 200)
            load.phase = "after"
            seen.readiness["after"] = {await _readiness(http, fault_server)}
            await load.until(
                lambda: load.count("after", lambda o: o.acknowledged) >= ACKNOWLEDGED_PER_PHASE
            )
        finally:
            load.stopping = True
            await running
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Message.content).where(Message.conversation_id == conversation.id)
        )
        seen.stored_contents = {row[0] for row in rows}
    await engine.dispose()
    seen.outcomes = load.outcomes
    seen.server_pids = (pid_before, fault_server.process.pid)
    return seen


def test_no_acknowledged_write_is_lost_across_a_postgresql_crash(
    observations: Observations,
) -> None:
    acknowledged = {o.content for o in observations.outcomes if o.acknowledged}
    lost = acknowledged - observations.stored_contents
    assert len(acknowledged) >= 2 * ACKNOWLEDGED_PER_PHASE
    assert lost == set()


def test_requests_during_the_outage_fail_with_retryable_service_unavailable(
    observations: Observations,
) -> None:
    """A write whose COMMIT the crash cut off may have been saved or not, and the restarted
    server cannot tell: that one is COMMIT_OUTCOME_UNKNOWN, not to be retried blindly."""
    refused = [o for o in observations.of("outage") if o.codes]
    unknown = [o for o in refused if o.codes == ("COMMIT_OUTCOME_UNKNOWN",)]
    assert refused
    assert {code for o in refused for code in o.codes} - {"COMMIT_OUTCOME_UNKNOWN"} == {
        "SERVICE_UNAVAILABLE"
    }
    assert all(o.retryable for o in refused if o not in unknown)
    assert all(o.kind == "write" and not o.retryable for o in unknown)


def test_no_request_hangs_or_gets_a_server_error_status(observations: Observations) -> None:
    statuses = {(o.status, o.transport_error) for o in observations.outcomes}
    assert statuses == {(200, None)}


def test_no_response_leaks_sql_or_a_traceback(observations: Observations) -> None:
    assert not [o for o in observations.outcomes if o.leaked]


def test_readiness_reports_the_outage_and_the_recovery(observations: Observations) -> None:
    assert observations.readiness == {"before": {200}, "outage": {503}, "after": {200}}


def test_server_recovers_by_itself_without_a_restart(observations: Observations) -> None:
    after = observations.of("after")
    assert observations.server_pids[0] == observations.server_pids[1]
    assert [o for o in after if o.kind == "read" and not o.codes]
    assert [o for o in after if o.acknowledged]


COUNT_MESSAGES = select(func.count()).select_from(Message)


async def test_requests_after_a_restart_get_fresh_connections_past_every_dead_one(
    fault_database: str, private_postgres: PrivatePostgres
) -> None:
    """Every pooled connection died with the server; without a pre-ping, a request's
    opening statement meets dead ones and is retried past them on a fresh connection,
    never refused."""
    pooled = 3
    engine = create_engine(fault_database, EngineOptions(pre_ping=False, pool_size=pooled))
    try:
        sessions = [DatabaseSession(engine) for _ in range(pooled)]  # all held at once
        counted = [(await session.execute(COUNT_MESSAGES)).one()[0] for session in sessions]
        for session in sessions:
            await session.close()
        await asyncio.to_thread(private_postgres.crash)
        await asyncio.to_thread(private_postgres.start)
        for _ in range(pooled):
            session = DatabaseSession(engine)
            try:
                counted.append((await session.execute(COUNT_MESSAGES)).one()[0])
            finally:
                await session.close()
        assert counted == [counted[0]] * 2 * pooled  # the same rows, read after the restart too
    finally:
        await engine.dispose()


# Bounded waits: statement and request timeouts -------------------------------------------


async def test_statement_over_the_statement_timeout_is_service_unavailable(
    database_url: str,
) -> None:
    """PostgreSQL cancels it (`statement_timeout`); the session reports a retryable error
    that says what happened. The limit also bounds the driver's own statements as it
    connects, which a loaded machine can take milliseconds over: it leaves them room."""
    engine = create_engine(database_url, EngineOptions(statement_timeout_ms=250))
    session = DatabaseSession(engine)
    try:
        with pytest.raises(ServiceUnavailableError, match="did not answer in time"):
            await session.execute(select(func.pg_sleep(5)))
    finally:
        await session.close(commit=False)
        await engine.dispose()


@pytest.fixture(scope="module")
def impatient_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server whose request timeout expires at the first wait of every request."""
    yield from own_server(
        database_url, tmp_path_factory, "impatient", REQUEST_TIMEOUT_SECONDS="0.000001"
    )


async def test_request_over_the_request_timeout_is_cancelled_and_writes_nothing(
    impatient_server: RunningServer, world: World, owner_engine: Any
) -> None:
    org = await world.organization("Impatient")
    staff = await world.user(org, Role.STAFF)
    conversation = await world.conversation(
        await world.engagement(org, await world.user(org, Role.CLIENT))
    )
    content = f"cut-{uuid.uuid4().hex}"
    variables = {"input": {"conversationId": conversation.gid, "content": content}}
    request_id = f"cut-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_SECONDS) as http:
        counted = await _timeouts_counted(http, impatient_server)
        response = await http.post(
            impatient_server.graphql_url,
            json={"query": POST, "variables": variables},
            headers={"authorization": f"Bearer {staff.token}", "x-request-id": request_id},
        )
        counted = await _timeouts_counted(http, impatient_server) - counted
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    async with owner_engine.connect() as connection:
        written = (
            await connection.execute(select(Message.id).where(Message.content == content))
        ).all()
    assert (codes, written) == (["REQUEST_TIMEOUT"], [])
    # The operation's log line and the error metrics say what the client was told.
    lines = [json.loads(line) for line in impatient_server.logs().splitlines()]
    logged = [
        line
        for line in lines
        if line.get("message") == "operation" and line.get("request_id") == request_id
    ]
    assert [(line["status"], line["error_codes"]) for line in logged] == [
        ("error", ["REQUEST_TIMEOUT"])
    ]
    assert counted == 1


async def _timeouts_counted(http: httpx.AsyncClient, server: RunningServer) -> float:
    metrics = (await http.get(f"{server.url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "graphql_errors_total" and sample.labels["code"] == "REQUEST_TIMEOUT"
    )


async def test_a_connection_init_while_the_database_is_down_is_told_to_try_again_later(
    fault_database: str, fault_server: RunningServer, private_postgres: PrivatePostgres
) -> None:
    """The credentials cannot be checked: close 1013 with the cause, a code clients
    reconnect after (never a dropped socket), and the next connection works once the
    database is back."""
    engine = create_engine(fault_database, EngineOptions(pre_ping=True))
    try:
        org = await World(engine).organization("Down")
        staff = await World(engine).user(org, Role.STAFF)
    finally:
        await engine.dispose()
    await asyncio.to_thread(private_postgres.crash)
    try:
        async with GraphQLWebSocket.open(
            fault_server.graphql_url, token=staff.token, acknowledged=False
        ) as ws:
            closed = await ws.closed()
    finally:
        await asyncio.to_thread(private_postgres.start)
    async with httpx.AsyncClient() as http:
        await _wait_readiness(http, fault_server, 200)
    async with GraphQLWebSocket.open(fault_server.graphql_url, token=staff.token):
        pass  # acknowledged
    assert closed == (1013, "The database is unavailable; retry shortly.")


@pytest.fixture(scope="module")
def brief_statements_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server whose statements may run 0.5 s at most."""
    yield from own_server(database_url, tmp_path_factory, "brief", DB_STATEMENT_TIMEOUT_MS="500")


async def test_a_document_answered_without_data_keeps_none_of_its_changes(
    brief_statements_server: RunningServer, world: World, owner_engine: Any
) -> None:
    """Its second field times out waiting for a lock, and its error nulls the whole answer,
    hiding the first field's payload: the project the first field made is not kept."""
    org = await world.organization("Two writes")
    staff = await world.user(org, Role.STAFF)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    conversation = await world.conversation(engagement)
    variables = {
        "project": {"engagementId": engagement.gid, "name": "hidden"},
        "post": {"conversationId": conversation.gid, "content": "waits"},
    }
    async with owner_engine.connect() as connection:
        held = await connection.begin()
        await connection.exec_driver_sql(
            f"SELECT id FROM conversations WHERE id = '{conversation.id}' FOR UPDATE"
        )
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_SECONDS) as http:
            response = await http.post(
                brief_statements_server.graphql_url,
                json={"query": PROJECT_AND_POST, "variables": variables},
                headers={"Authorization": f"Bearer {staff.token}"},
            )
        await held.rollback()
    body = response.json()
    async with owner_engine.connect() as connection:
        projects = await connection.exec_driver_sql(
            f"SELECT count(*) FROM projects WHERE engagement_id = '{engagement.id}'"
        )
        kept = projects.scalar_one()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert kept == 0


async def test_a_transaction_id_handed_out_again_after_a_crash_is_no_commit(
    private_postgres: PrivatePostgres, fault_database: str
) -> None:
    """A crash forgets the id of a transaction none of whose records reached the disk, and
    the restarted server hands it out again: its status is then another transaction's.
    A COMMIT cut off by a crash was answered as saved when that other one committed (an
    acknowledged write lost); its outcome is unknown once the server restarted."""
    cut = await asyncpg.connect(fault_database)
    await cut.execute("BEGIN")
    transaction, started = await cut.fetchrow(
        "SELECT pg_current_xact_id()::text, pg_postmaster_start_time()"
    )
    await asyncio.to_thread(private_postgres.crash)
    await asyncio.to_thread(private_postgres.start)
    with contextlib.suppress(Exception):
        await cut.close(timeout=1)
    other = await asyncpg.connect(fault_database)
    try:
        async with other.transaction():
            again = await other.fetchval("SELECT pg_current_xact_id()::text")
        status = await other.fetchval("SELECT pg_xact_status($1::text::xid8)", transaction)
    finally:
        await other.close()
    assert (again, status) == (transaction, "committed")  # the id now names another commit
    engine = create_engine(fault_database, EngineOptions(pre_ping=True))
    try:
        outcome = await DatabaseSession(engine)._outcome(transaction, started)
    finally:
        await engine.dispose()
    assert outcome is None
