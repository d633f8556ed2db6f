"""One request's database work: one connection, one transaction, statements in turn.

Loaders of different fields dispatch concurrently, but a connection runs one statement
at a time; every statement of a request therefore goes through `DatabaseSession.execute`,
which serializes them on the request's single connection. The connection is taken from
the pool on the first statement, so requests that never touch the database (introspection)
cost nothing. The transaction assumes the restricted application role and carries the
tenant settings (`set_config(..., true)`: local to the transaction, never leaking into
another request on a pooled connection).
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import Uuid, bindparam, column, func, select
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.exc import DBAPIError, PendingRollbackError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlalchemy.sql import Executable, Select

from engagement_api.db.engine import STATEMENT_COUNTER_KEY, StatementCounter
from engagement_api.db.models import User
from engagement_api.db.prepared import prepared
from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING, USER_SETTING, VIEWER_FUNCTION
from engagement_api.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)


class DatabaseSession:
    """The database as one request (or one subscription event) sees it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._opening_row: Row[Any] | None = None
        self._driver: Any = None
        self.statements = StatementCounter()

    async def open_for_viewer(self, user_id: uuid.UUID) -> Row[Any] | None:
        """Start the transaction as the token's subject: ONE statement assumes the app role,
        sets the tenant settings and returns the subject's `users` row (None if unknown)."""
        async with self._lock:
            if self._connection is not None:
                raise RuntimeError("the viewer must be loaded before any other statement")
            connection = await self._ensure_connection(VIEWER_STATEMENT, {"viewer_id": user_id})
            if self._opening_row is None:
                # No row, so the select list that assumes the app role never ran.
                await connection.execute(_ASSUME_APP_ROLE)
            return self._opening_row

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run one statement in the request's transaction (buffered result)."""
        async with self._lock:
            connection = await self._ensure_connection()
            try:
                return await connection.execute(statement, parameters)
            except DBAPIError as error:
                if _is_unavailability(error):
                    raise ServiceUnavailableError() from error
                raise

    async def fetch(
        self, statement: Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a read template (built once per shape, see `prepared.py`) in the request's
        transaction on the driver's connection; its rows read like SQLAlchemy's."""
        async with self._lock:
            connection = await self._ensure_connection()
            read = prepared(statement, connection.dialect)
            try:
                records = await self._driver.fetch(read.sql, *read.arguments(parameters))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
                await self._unless_available(connection, error)
                raise
            self.statements.count += 1
            return read.rows(records)

    async def _unless_available(self, connection: AsyncConnection, error: Exception) -> None:
        """Raise SERVICE_UNAVAILABLE for a driver error that is no bug of the statement: the
        connection is gone (it is then invalidated, never pooled again) or the statement
        ran out of time."""
        if isinstance(error, OSError) or self._driver.is_closed():
            await connection.invalidate()
            raise ServiceUnavailableError() from error
        if isinstance(error, (asyncpg.QueryCanceledError, TimeoutError)):
            raise ServiceUnavailableError() from error

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: everything inside is undone if the block raises."""
        async with self._lock:
            connection = await self._ensure_connection()
            nested = await connection.begin_nested()
        try:
            yield
        except BaseException:
            async with self._lock:
                await nested.rollback()
            raise
        else:
            async with self._lock:
                await nested.commit()

    async def close(self, *, commit: bool = True) -> None:
        """Commit (or roll back) and give the connection back to the pool."""
        connection, transaction = self._connection, self._transaction
        self._connection = self._transaction = None
        if connection is None or transaction is None:
            return
        try:
            async with self._lock:
                if connection.invalidated:  # lost mid-request: nothing of it was committed
                    if commit:
                        raise ServiceUnavailableError()
                elif commit and transaction.is_active:
                    await transaction.commit()
                elif transaction.is_active:
                    await transaction.rollback()
        except (DBAPIError, OSError, PendingRollbackError) as error:
            raise ServiceUnavailableError() from error
        finally:
            await _release(connection)

    async def _ensure_connection(
        self, opening: Executable | None = None, parameters: dict[str, Any] | None = None
    ) -> AsyncConnection:
        """The request's connection, its transaction opened by the opening statement. A pooled
        connection that died since its last use (PostgreSQL restarted) fails that statement
        before anything was done; SQLAlchemy then invalidates the pool, and the statement is
        retried once on a fresh connection: what a pre-ping guards against, without a
        ping's round trips on every request."""
        if self._connection is not None:
            return self._connection
        statement = opening if opening is not None else _ASSUME_APP_ROLE
        try:
            return await self._open(statement, parameters)
        except _DeadConnectionError:
            try:
                return await self._open(statement, parameters)
            except _DeadConnectionError as error:
                raise ServiceUnavailableError() from error.__cause__

    async def _open(
        self, statement: Executable, parameters: dict[str, Any] | None
    ) -> AsyncConnection:
        try:
            connection = await self._engine.connect()
        except (TimeoutError, DBAPIError, OSError, PoolTimeoutError) as error:
            raise ServiceUnavailableError() from error
        assert connection.sync_connection is not None
        connection.sync_connection.info[STATEMENT_COUNTER_KEY] = self.statements
        try:
            self._transaction = await connection.begin()
            result = await connection.execute(statement, parameters)
            self._opening_row = result.first()
        except DBAPIError as error:
            await _release(connection)
            if error.connection_invalidated:
                raise _DeadConnectionError() from error
            if _is_unavailability(error):
                raise ServiceUnavailableError() from error
            raise
        except OSError as error:
            await _release(connection)
            raise _DeadConnectionError() from error
        self._driver = (await connection.get_raw_connection()).driver_connection
        self._connection = connection
        return connection


class _DeadConnectionError(Exception):
    """The opening statement found its connection dead (nothing of the request ran)."""


async def _release(connection: AsyncConnection) -> None:
    """Give the connection back to the pool; a broken one is discarded, never raised about."""
    try:
        if connection.sync_connection is not None and not connection.invalidated:
            connection.sync_connection.info.pop(STATEMENT_COUNTER_KEY, None)
        await connection.close()
    except (SQLAlchemyError, OSError):
        logger.warning("discarding a broken database connection", exc_info=True)


QUERY_CANCELED = "57014"
"""SQLSTATE of a statement cancelled by `statement_timeout` (or an administrator)."""


def _is_unavailability(error: DBAPIError) -> bool:
    """A lost connection or a statement cancelled by its timeout, not a bug in the statement."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return bool(error.connection_invalidated) or sqlstate == QUERY_CANCELED


_ASSUME_APP_ROLE = select(
    func.set_config("role", APP_ROLE, True),
    func.set_config(USER_SETTING, "", True),
    func.set_config(ORG_SETTING, "", True),
)


def _viewer_statement() -> Executable:
    columns = [column(c.name, c.type) for c in User.__table__.c]
    viewer_id = bindparam("viewer_id", type_=Uuid)
    viewer = getattr(func, VIEWER_FUNCTION)(viewer_id).table_valued(*columns).alias("v")
    return select(viewer, func.set_config("role", APP_ROLE, True).label("_role"))


VIEWER_STATEMENT = _viewer_statement()
"""Built once, executed with `{"viewer_id": ...}`: a new table-valued alias per request
made SQLAlchemy rebuild the result's column collections on every execution (a seventh of
the CPU of a live-feed delivery)."""
