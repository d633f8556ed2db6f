"""The migrations run down and up cleanly, and the ORM models describe what they build."""

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from engagement_api.db import migrate
from engagement_api.db.engine import create_engine
from engagement_api.db.models import Base
from tests.catalog import (
    diff,
    downgrade,
    format_diff,
    migrated_database,
    scratch_database,
    snapshot,
    upgrade,
)


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await migrate.current_revision(connection)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def migrated_url() -> AsyncIterator[str]:
    async with migrated_database("orm") as url:
        yield url


async def test_downgrade_to_base_removes_every_object() -> None:
    async with migrated_database("roundtrip") as url:
        await downgrade(url, "base")
        left_over = await snapshot(url, include_security=True)
        revision = await current_revision(url)
    assert (revision, sorted(left_over)) == (None, [])


async def test_downgrade_to_base_then_upgrade_to_head_restores_the_schema() -> None:
    async with migrated_database("roundtrip") as url:
        before = await snapshot(url, include_security=True)
        await downgrade(url, "base")
        await upgrade(url, "head")
        after = await snapshot(url, include_security=True)
        revision = await current_revision(url)
    assert revision == migrate.head_revision()
    lines = diff(before, after, "before", "after")
    assert not lines, "the schema changed over downgrade base, upgrade head:" + format_diff(lines)


async def test_each_downgrade_restores_the_schema_before_its_upgrade() -> None:
    problems: list[str] = []
    async with scratch_database("steps") as url:
        previous = "base"
        for revision in revisions():
            before = await snapshot(url, include_security=True)
            await upgrade(url, revision)
            await downgrade(url, previous)
            after = await snapshot(url, include_security=True)
            problems += [
                f"{revision}: {line}" for line in diff(before, after, "before", "after")
            ]
            await upgrade(url, revision)
            previous = revision
    assert len(revisions()) >= 4
    assert not problems, "a downgrade does not undo its upgrade:" + format_diff(problems)


def _orm_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_orm_models_match_the_migrated_database(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_orm_differences)
    finally:
        await engine.dispose()
    assert differences == [], "ORM models differ from the migrations:" + format_diff(
        [repr(difference) for difference in differences]
    )
