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
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlalchemy.sql import Executable

from engagement_api.db.engine import STATEMENT_COUNTER_KEY, StatementCounter
from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING, USER_SETTING
from engagement_api.errors import ServiceUnavailableError


class DatabaseSession:
    """The database as one request (or one subscription event) sees it."""

    def __init__(self, engine: AsyncEngine, *, user_id: uuid.UUID | None = None) -> None:
        self._engine = engine
        self._user_id = user_id
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self.statements = StatementCounter()

    @property
    def started(self) -> bool:
        return self._connection is not None

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
                if commit and transaction.is_active:
                    await transaction.commit()
                elif transaction.is_active:
                    await transaction.rollback()
        except (DBAPIError, OSError) as error:
            raise ServiceUnavailableError() from error
        finally:
            await _release(connection)

    async def _ensure_connection(self) -> AsyncConnection:
        if self._connection is not None:
            return self._connection
        try:
            connection = await self._engine.connect()
        except (TimeoutError, DBAPIError, OSError, PoolTimeoutError) as error:
            raise ServiceUnavailableError() from error
        assert connection.sync_connection is not None
        connection.sync_connection.info[STATEMENT_COUNTER_KEY] = self.statements
        try:
            self._transaction = await connection.begin()
            await connection.execute(_assume_app_role(self._user_id))
        except (DBAPIError, OSError) as error:
            await _release(connection)
            raise ServiceUnavailableError() from error
        self._connection = connection
        return connection


async def _release(connection: AsyncConnection) -> None:
    if connection.sync_connection is not None:
        connection.sync_connection.info.pop(STATEMENT_COUNTER_KEY, None)
    await connection.close()


def _is_unavailability(error: DBAPIError) -> bool:
    """A lost connection or a statement cancelled by its timeout, not a bug in the statement."""
    return bool(error.connection_invalidated) or "QueryCanceled" in type(error.orig).__name__


def _assume_app_role(user_id: uuid.UUID | None) -> Executable:
    return select(
        func.set_config("role", APP_ROLE, True),
        func.set_config(USER_SETTING, str(user_id) if user_id else "", True),
        func.set_config(ORG_SETTING, "", True),
    )
