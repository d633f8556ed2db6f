"""Scratch databases on the test server: created fresh, migrated, dropped afterwards."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncTransaction

from engagement_api.db import migrate
from engagement_api.db.engine import create_engine, resolve_database_url, with_database
from engagement_api.settings import Settings


def server_url() -> str:
    """A maintenance URL on the test server: `DATABASE_URL`'s server, or the embedded one."""
    return with_database(resolve_database_url(Settings()), "postgres")


def _unique_name(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:8]}"


async def create_database(prefix: str = "test") -> str:
    name = _unique_name(prefix)
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url(), name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def migrated_database(prefix: str) -> AsyncIterator[str]:
    """A fresh database migrated to head; dropped on exit."""
    url = await create_database(prefix)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await drop_database(url)


@asynccontextmanager
async def migrated_engine(prefix: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A fresh database migrated to head, with an engine on it; dropped on exit."""
    async with migrated_database(prefix) as url:
        engine = create_engine(url)
        try:
            yield url, engine
        finally:
            await engine.dispose()


async def waiting_on_locks(engine: AsyncEngine) -> int:
    """How many statements of `engine`'s database wait for a lock now."""
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


@asynccontextmanager
async def row_locked(
    engine: AsyncEngine, table: str, row_id: uuid.UUID
) -> AsyncIterator[AsyncTransaction]:
    """The row held FOR UPDATE by a connection of its own; its transaction (commit it to
    let go early) commits on leaving."""
    async with engine.connect() as connection:
        held = await connection.begin()
        await connection.execute(
            text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id}
        )
        try:
            yield held
        finally:
            if held.is_active:
                await held.commit()


async def until_waiting_on_locks(engine: AsyncEngine, count: int, guard: float = 20.0) -> None:
    """Returns once `count` statements wait for a lock (TimeoutError after `guard`)."""
    async with asyncio.timeout(guard):
        while await waiting_on_locks(engine) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
