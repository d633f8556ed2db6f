"""One request's database work: one connection, one transaction, statements in turn.

Loaders of different fields dispatch concurrently, but a connection runs one statement
at a time; every statement of a request therefore goes through `DatabaseSession`, which
serializes them on the request's single connection. The connection is taken from the pool
on the first statement, so requests that never touch the database (introspection) cost
nothing. The transaction assumes the restricted application role and carries the tenant
settings (`set_config(..., true)`: local to the transaction, never leaking into another
request on a pooled connection).

The transaction has one owner, the driver's connection: BEGIN, savepoints, COMMIT, the
reads (`fetch`, templates compiled once) and the writes (`execute`) all run on it directly.
SQLAlchemy is the pool and the SQL compiler only (its public compile and type API,
`prepared.py`): it never executes a statement of a request, so it never begins, commits or
rolls back anything of it. That costs a third of SQLAlchemy's execution layer per round
trip, and leaves one place that knows whether the request wrote (the commit-outcome check).
"""

import asyncio
import itertools
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Executable, Uuid, bindparam, column, func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from engagement_api.db.models import User
from engagement_api.db.prepared import PreparedStatement, Result, Row, prepared
from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING, USER_SETTING, VIEWER_FUNCTION
from engagement_api.errors import CommitOutcomeUnknownError, ServiceUnavailableError

logger = logging.getLogger(__name__)

DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
"""What a statement on the driver's connection may raise."""

LOST_CONNECTION_ERRORS = (
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
"""The connection is gone or in a state the driver cannot vouch for (a backend terminated
by an administrator, a server restart, an operation interrupted mid-protocol): it is
discarded, and the request answers the retryable SERVICE_UNAVAILABLE."""

RETRYABLE_SQLSTATES = frozenset({"57014", "40001", "40P01", "57P01", "57P02", "57P03"})
"""Statement timeout, serialization failure, deadlock, and the server shutting a backend:
no bug of the statement; the transaction is undone and may be retried as it is."""


TIMED_OUT = "The database did not answer in time (busy, or waiting for a lock); retry shortly."
CONFLICTED = "The change met another one made at the same time and was undone; retry it."
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


class StatementCounter:
    """Counts every statement the session sends (`DatabaseSession.statements`)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class DatabaseSession:
    """The database as one request (or one subscription event) sees it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        self._wrote = False
        self._savepoints = itertools.count(1)
        self._open_as: uuid.UUID | None = None
        self._closed = False
        self._begin = "BEGIN"
        self.statements = StatementCounter()
        self.conflicted = False
        """A statement was undone by a conflicting transaction (deadlock, serialization
        failure): the whole transaction may be rolled back and run again."""

    def read_one_snapshot(self) -> None:
        """Open the transaction as REPEATABLE READ, READ ONLY: every statement sees the
        database as of the first one, and none may write (a query)."""
        if self._connection is not None:
            raise RuntimeError("the transaction is already open")
        self._begin = ONE_SNAPSHOT

    def open_as(self, user_id: uuid.UUID) -> None:
        """Open the transaction, when a statement first needs it, as this viewer (its
        settings for row-level security), instead of the anonymous app role."""
        self._open_as = user_id

    async def open_for_viewer(self, user_id: uuid.UUID) -> Any:
        """Start the transaction as the token's subject: ONE statement assumes the app role,
        sets the tenant settings and returns the subject's `users` row (None if unknown)."""
        async with self._lock:
            if self._connection is not None:
                raise RuntimeError("the viewer must be loaded before any other statement")
            rows = await self._ensure_connection(VIEWER_STATEMENT, {"viewer_id": user_id})
            if not rows:
                # No row, so the select list that assumes the app role never ran.
                await self._assume_app_role()
                return None
            return rows[0]

    async def fetch(
        self, statement: Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> list[Row]:
        """Run a read template (built once per shape, see `prepared.py`) in the request's
        transaction on the driver's connection; its rows read like SQLAlchemy's."""
        async with self._lock:
            await self._ensure_connection()
            assert self._connection is not None
            return await self._run(prepared(statement, self._connection.dialect), parameters)

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        """Run one statement (a write, or a locking read) in the request's transaction on
        the driver's connection. With `parameters` the statement is a template (one object,
        its values bound by name) and is compiled once; without, it was built for this call
        (its values inline) and is compiled for this run only."""
        async with self._lock:
            await self._ensure_connection()
            assert self._connection is not None
            dialect = self._connection.dialect
            compiled = (
                PreparedStatement(statement, dialect, once=True)
                if parameters is None
                else prepared(statement, dialect)
            )
            self._wrote = True
            return Result(await self._run(compiled, parameters))

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: everything inside is undone if the block raises."""
        name = f"savepoint_{next(self._savepoints)}"
        async with self._lock:
            await self._ensure_connection()
            await self._command(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            async with self._lock:
                await self._command(f"ROLLBACK TO SAVEPOINT {name}")
            raise
        else:
            async with self._lock:
                await self._command(f"RELEASE SAVEPOINT {name}")

    async def close(self, *, commit: bool = True) -> None:
        """Commit (or roll back) and give the connection back to the pool. A commit of
        writes that PostgreSQL turns into a rollback (a later statement of the transaction
        failed) is SERVICE_UNAVAILABLE: nothing was saved, and the client must know."""
        self._closed = True
        connection, driver = self._connection, self._driver
        self._connection = self._driver = None
        if connection is None:
            return
        transaction: asyncpg.Record | None = None
        try:
            async with self._lock:
                if connection.invalidated or driver.is_closed():
                    if commit:  # lost mid-request: nothing of it was committed
                        raise ServiceUnavailableError()
                    return
                if commit and self._wrote:
                    self.statements.count += 1
                    transaction = await driver.fetchrow(CURRENT_TRANSACTION)
                self.statements.count += 1
                status = await driver.execute("COMMIT" if commit else "ROLLBACK")
                if commit and status != "COMMIT" and self._wrote:
                    raise ServiceUnavailableError()
        except DRIVER_ERRORS as error:
            await _invalidate(connection)
            if transaction is None:
                raise ServiceUnavailableError() from error
            outcome = await self._outcome(transaction[0], transaction[1])
            if outcome == "committed":
                logger.warning("the connection was lost as its COMMIT succeeded", exc_info=True)
                return  # the writes are saved: the request must not answer a failure
            if outcome == "aborted":
                raise ServiceUnavailableError() from error
            logger.error("the outcome of a cut-off COMMIT is unknown", exc_info=True)
            raise CommitOutcomeUnknownError() from error
        finally:
            await _release(connection)

    async def _outcome(self, transaction: str, server_started: datetime) -> str | None:
        """What became of the transaction whose COMMIT was cut off ("committed" or
        "aborted"), asked on another connection (again on a fresh one if that is lost too);
        None when that cannot be learnt within `COMMIT_OUTCOME_SECONDS`, or when the server
        restarted since `server_started`: a crash forgets the ids of transactions none of
        whose records reached the disk, and hands them out again, so the id's status may be
        another transaction's. The backend still in the transaction is terminated first: a
        COMMIT it is writing completes (PostgreSQL holds interrupts meanwhile), anything else
        is undone, so the answer comes and is final."""
        status: str | None = "in progress"
        terminated = False
        with suppress(TimeoutError):
            async with asyncio.timeout(COMMIT_OUTCOME_SECONDS):
                while status == "in progress":
                    try:
                        async with self._engine.connect() as other:
                            raw: Any = (await other.get_raw_connection()).driver_connection
                            status, started = await raw.fetchrow(TRANSACTION_STATUS, transaction)
                            if started != server_started:
                                return None
                            if status == "in progress" and not terminated:
                                with suppress(asyncpg.InsufficientPrivilegeError):
                                    await raw.fetchval(TERMINATE_TRANSACTION, transaction)
                                terminated = True
                            while status == "in progress":
                                await asyncio.sleep(0.05)
                                status = await raw.fetchval(TRANSACTION_STATUS, transaction)
                    except (DBAPIError, OSError, PoolTimeoutError, *DRIVER_ERRORS):
                        await asyncio.sleep(0.1)  # the database out of reach, for now
        return status if status in ("committed", "aborted") else None

    async def _run(
        self, statement: PreparedStatement, parameters: Mapping[str, Any] | None
    ) -> list[Row]:
        self.statements.count += 1
        try:
            records = await self._driver.fetch(statement.sql, *statement.arguments(parameters))
        except DRIVER_ERRORS as error:
            await self._unless_available(error)
            raise
        return statement.rows(records)

    async def _assume_app_role(self) -> None:
        assert self._connection is not None
        await self._run(prepared(_ASSUME_APP_ROLE, self._connection.dialect), None)

    async def _command(self, command: str) -> None:
        self.statements.count += 1
        try:
            await self._driver.execute(command)
        except DRIVER_ERRORS as error:
            await self._unless_available(error)
            raise

    async def _unless_available(self, error: Exception) -> None:
        """Raise SERVICE_UNAVAILABLE for a driver error that is no bug of the statement: the
        connection is gone (it is then invalidated, never pooled again), the statement ran
        out of time, or PostgreSQL undid it for a reason worth a retry (`RETRYABLE_SQLSTATES`,
        class 08)."""
        assert self._connection is not None
        if _is_lost(error, self._driver):
            await _invalidate(self._connection)
            raise ServiceUnavailableError() from error
        if _ran_out_of_time(error):
            raise ServiceUnavailableError(TIMED_OUT) from error
        if _is_retryable(error):
            conflicted = getattr(error, "sqlstate", None) in CONFLICT_SQLSTATES
            self.conflicted = self.conflicted or conflicted
            raise ServiceUnavailableError(CONFLICTED if conflicted else None) from error

    async def _ensure_connection(
        self, opening: Select[Any] | None = None, parameters: dict[str, Any] | None = None
    ) -> list[Row]:
        """The request's connection, its transaction opened by the opening statement, whose
        rows are returned (none when the connection was already open). A pooled
        connection that died since its last use (PostgreSQL restarted) fails BEGIN before
        anything was done; it is then discarded and the opening retried, past every other
        idle connection of the pool (they died with it), on a fresh connection: what a
        pre-ping guards against, without a ping's round trips on every request."""
        if self._connection is not None:
            return []
        if self._closed:  # a late statement (a loader batch of a cancelled operation)
            raise ServiceUnavailableError("The operation has ended.")
        statement = opening if opening is not None else _ASSUME_APP_ROLE
        as_viewer = opening is None and self._open_as is not None
        if as_viewer:
            statement, parameters = VIEWER_STATEMENT, {"viewer_id": self._open_as}
        rows = await self._open_on_a_live_connection(statement, parameters)
        if as_viewer and not rows:  # the viewer is gone: no tenant, RLS shows nothing
            await self._assume_app_role()
        return [] if as_viewer else rows

    async def _open_on_a_live_connection(
        self, statement: Select[Any], parameters: dict[str, Any] | None
    ) -> list[Row]:
        attempt, retries = 0, 1
        while True:
            try:
                return await self._open(statement, parameters)
            except _DeadConnectionError as error:
                if attempt == 0:  # every idle connection of the pool died with the server
                    retries = _idle_connections(self._engine) + 1
                if attempt >= retries:
                    raise ServiceUnavailableError() from error.__cause__
            attempt += 1

    async def _open(self, statement: Select[Any], parameters: dict[str, Any] | None) -> list[Row]:
        try:
            connection = await self._engine.connect()
        except (TimeoutError, DBAPIError, OSError, PoolTimeoutError) as error:
            raise ServiceUnavailableError() from error
        read = prepared(statement, connection.dialect)
        try:
            driver: Any = (await connection.get_raw_connection()).driver_connection
        except BaseException:
            await _release(connection)
            raise
        try:
            await driver.execute(self._begin)
            self.statements.count += 1
            records = await driver.fetch(read.sql, *read.arguments(parameters))
            self.statements.count += 1
        except DRIVER_ERRORS as error:
            lost = _is_lost(error, driver)
            await (_invalidate(connection) if lost else _roll_back(connection, driver))
            await _release(connection)
            if lost:
                raise _DeadConnectionError() from error
            if _ran_out_of_time(error):
                raise ServiceUnavailableError(TIMED_OUT) from error
            raise
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            await _invalidate(connection)
            await _release(connection)
            raise
        self._connection, self._driver = connection, driver
        return read.rows(records)


def _idle_connections(engine: AsyncEngine) -> int:
    """How many connections the pool holds unused (QueuePool's count; 0 for a pool that
    keeps none)."""
    checkedin = getattr(engine.pool, "checkedin", None)
    return int(checkedin()) if callable(checkedin) else 0


class _DeadConnectionError(Exception):
    """The opening statement found its connection dead (nothing of the request ran)."""


def _is_lost(error: BaseException, driver: Any) -> bool:
    """Whether `error` means the connection is gone (PostgreSQL restarted or crashed)."""
    return isinstance(error, LOST_CONNECTION_ERRORS) or bool(
        driver is not None and driver.is_closed()
    )


def _is_retryable(error: BaseException) -> bool:
    """A deadlock, a serialization failure, the server shutting the backend, or a lost
    connection as PostgreSQL classes it (SQLSTATE class 08)."""
    sqlstate = str(getattr(error, "sqlstate", None) or "")
    return sqlstate in RETRYABLE_SQLSTATES or sqlstate.startswith("08")


def _ran_out_of_time(error: BaseException) -> bool:
    """A statement cancelled by `statement_timeout`, or one the driver stopped waiting for."""
    return isinstance(error, (asyncpg.QueryCanceledError, TimeoutError))


async def _roll_back(connection: AsyncConnection, driver: Any) -> None:
    """End a transaction that failed before the request had it; discard what cannot."""
    try:
        await driver.execute("ROLLBACK")
    except DRIVER_ERRORS:
        await _invalidate(connection)


async def _invalidate(connection: AsyncConnection) -> None:
    """Mark the connection unusable: the pool closes it instead of handing it out again."""
    try:
        if not connection.invalidated:
            await connection.invalidate()
    except (SQLAlchemyError, OSError):
        logger.warning("invalidating a broken database connection failed", exc_info=True)


async def _release(connection: AsyncConnection) -> None:
    """Give the connection back to the pool; a broken one is discarded, never raised about.
    It runs to its end even when the request is cancelled meanwhile (a subscription ended
    as its client left): cut off, the pool's close of the connection logs an error."""
    await asyncio.shield(_give_back(connection))


async def _give_back(connection: AsyncConnection) -> None:
    try:
        await connection.close()
    except (SQLAlchemyError, OSError):
        logger.warning("discarding a broken database connection", exc_info=True)


ONE_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
CURRENT_TRANSACTION = "SELECT pg_current_xact_id()::text, pg_postmaster_start_time()"
COMMIT_OUTCOME_SECONDS = 15.0
TRANSACTION_STATUS = "SELECT pg_xact_status($1::text::xid8), pg_postmaster_start_time()"
TERMINATE_TRANSACTION = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE backend_xid = (($1::text::numeric % 4294967296)::text)::xid
"""
"""The backend running the transaction, found by its id (a pid the driver knows may be a
pooler's): `xid8` is the epoch and the 32-bit `xid` that `pg_stat_activity` shows."""


_ASSUME_APP_ROLE = select(
    func.set_config("role", APP_ROLE, True),
    func.set_config(USER_SETTING, "", True),
    func.set_config(ORG_SETTING, "", True),
)


def _viewer_statement() -> Select[Any]:
    columns = [column(c.name, c.type) for c in User.__table__.c]
    viewer_id = bindparam("viewer_id", type_=Uuid)
    viewer = getattr(func, VIEWER_FUNCTION)(viewer_id).table_valued(*columns).alias("v")
    return select(viewer, func.set_config("role", APP_ROLE, True).label("_role"))


VIEWER_STATEMENT = _viewer_statement()
"""Built once, executed with `{"viewer_id": ...}`: a new table-valued alias per request
made SQLAlchemy rebuild the result's column collections on every execution (a seventh of
the CPU of a live-feed delivery)."""
