"""The default backend: PostgreSQL LISTEN/NOTIFY (no extra component; works on the
embedded database too).

The writing transaction itself NOTIFYs its outbox rows' announcement (db/outbox.py):
PostgreSQL delivers it when, and only if, the transaction commits, so nothing is sent
after the commit. Each process LISTENs on one dedicated connection, outside the request
pool.
"""

import asyncio
import os
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import asyncpg

from engagement_api.broadcast.base import Broadcaster
from engagement_api.broadcast.fanout import Fanout
from engagement_api.events import Announcement

LISTENER_APPLICATION_NAME = f"engagement-api-listener {os.getpid()}"
"""How operators (and tests) find this process's listening backend in pg_stat_activity."""


class PostgresBroadcaster(Broadcaster):
    backend = "postgres"

    def __init__(self, dsn: str, fanout: Fanout, **options: Any) -> None:
        super().__init__(fanout, **options)
        self.dsn = dsn

    async def send(self, announcements: Sequence[Announcement]) -> None:
        """Nothing to do: the transaction sent its NOTIFY as it committed."""

    async def close_publisher(self) -> None:
        """No publishing connection."""

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

    async def _connect(self, application_name: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            statement_cache_size=0,
            server_settings={"application_name": application_name},
        )
