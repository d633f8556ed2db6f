"""The default backend: PostgreSQL LISTEN/NOTIFY (no extra component; works on the
embedded database too).

Events are NOTIFYed after the writing transaction has committed (the view publishes
`context.events` once `close(commit=True)` succeeds), on a dedicated publishing
connection; each process LISTENs on one dedicated connection, outside the request pool.
"""

import asyncio
import os
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import asyncpg

from engagement_api.broadcast.base import Broadcaster, logger
from engagement_api.broadcast.codec import encode
from engagement_api.broadcast.fanout import Fanout
from engagement_api.events import MessageEvent

LISTENER_APPLICATION_NAME = f"engagement-api-listener {os.getpid()}"
"""How operators (and tests) find this process's listening backend in pg_stat_activity."""
PUBLISHER_APPLICATION_NAME = f"engagement-api-publisher {os.getpid()}"
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
NOTIFY_ALL = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"
"""One round trip for all of an operation's events, delivered in order."""


class PostgresBroadcaster(Broadcaster):
    backend = "postgres"

    def __init__(self, dsn: str, fanout: Fanout, **options: Any) -> None:
        super().__init__(fanout, **options)
        self.dsn = dsn
        self._publisher: asyncpg.Connection | None = None
        self._publish_lock = asyncio.Lock()

    async def publish(self, events: Sequence[MessageEvent]) -> None:
        if not events:
            return
        payloads = [encode(event) for event in events]
        async with self._publish_lock:
            for attempt in range(2):  # a stale connection gets one fresh retry
                try:
                    connection = await self._publishing_connection()
                    await connection.execute(NOTIFY_ALL, self.channel, payloads)
                    return
                except CONNECTION_ERRORS as error:
                    await self.close_publisher()
                    if attempt == 1:
                        logger.error("could not publish %d event(s): %r", len(events), error)

    async def close_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None and not publisher.is_closed():
            publisher.terminate()

    async def listen(self, on_listening: Callable[[], None]) -> None:
        connection = await self._connect(LISTENER_APPLICATION_NAME)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self.channel, self._on_notification)
            on_listening()
            while not lost.is_set() and not connection.is_closed():
                with suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.health_check_seconds)
                if not lost.is_set():  # idle: prove the connection is still alive
                    await connection.execute("SELECT 1", timeout=self.connect_timeout)
        finally:
            if not connection.is_closed():
                connection.terminate()

    def _on_notification(
        self, _connection: object, _pid: int, _channel: str, payload: object
    ) -> None:
        self.receive(str(payload))

    async def _publishing_connection(self) -> asyncpg.Connection:
        if self._publisher is None or self._publisher.is_closed():
            self._publisher = await self._connect(PUBLISHER_APPLICATION_NAME)
        return self._publisher

    async def _connect(self, application_name: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            statement_cache_size=0,
            server_settings={"application_name": application_name},
        )
