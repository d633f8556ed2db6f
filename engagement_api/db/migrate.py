"""Run the Alembic migrations programmatically (CLI `migrate`, tests, readiness)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from engagement_api.settings import PROJECT_ROOT


def _migrations_home() -> Path:
    """The folder holding alembic.ini and migrations/: the source tree, or the working
    directory of an installed package (the Docker image copies both to /app)."""
    for candidate in (PROJECT_ROOT, Path.cwd()):
        if (candidate / "alembic.ini").exists():
            return candidate
    raise FileNotFoundError("alembic.ini and migrations/ not found")


MIGRATIONS_HOME = _migrations_home()
MIGRATIONS_DIR = MIGRATIONS_HOME / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(MIGRATIONS_HOME / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def migrate_to(database_url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Move the database to `revision`: up when it is ahead of the database's (or `head`),
    down when it is behind (or `base`). The revisions before and after (None: base, no
    migration). An unknown revision raises Alembic's `CommandError`, before anything
    changes."""
    config = alembic_config(database_url)
    script = ScriptDirectory.from_config(config)
    target = None if revision == "base" else script.get_revision(revision)
    wanted = None if target is None else target.revision
    current = asyncio.run(_current_revision(database_url))
    if wanted == current:
        return current, current
    reachable_down = (
        {r.revision for r in script.iterate_revisions(current, "base")} if current else set()
    )
    if wanted is None or wanted in reachable_down:
        command.downgrade(config, "base" if wanted is None else wanted)
    else:
        command.upgrade(config, wanted)
    return current, wanted  # what Alembic reached: it raises short of it


async def _current_revision(database_url: str) -> str | None:
    from engagement_api.db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    def read(sync_connection: object) -> str | None:
        return MigrationContext.configure(sync_connection).get_current_revision()  # type: ignore[arg-type]

    return await connection.run_sync(read)


__all__ = [
    "MIGRATIONS_DIR",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate_to",
    "upgrade",
]
