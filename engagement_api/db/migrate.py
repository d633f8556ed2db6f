"""Run the Alembic migrations programmatically (CLI `migrate`, tests, readiness)."""

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


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    def read(sync_connection: object) -> str | None:
        return MigrationContext.configure(sync_connection).get_current_revision()  # type: ignore[arg-type]

    return await connection.run_sync(read)


__all__ = ["MIGRATIONS_DIR", "current_revision", "downgrade", "head_revision", "upgrade"]
