"""The migrations run down and up cleanly, and the ORM models describe what they build."""

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Constraint, DefaultClause, ForeignKeyConstraint, Index, Table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

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


async def test_downgrade_to_base_leaves_the_database_as_it_was_before_upgrade() -> None:
    async with scratch_database("roundtrip") as url:
        new = await snapshot(url, include_security=True)
        await upgrade(url, "head")
        migrated = await snapshot(url, include_security=True)
        await downgrade(url, "base")
        left = await snapshot(url, include_security=True)
        revision = await current_revision(url)
    assert "table engagements" in migrated
    assert revision is None
    lines = diff(new, left, "new database", "after downgrade")
    assert not lines, "downgrade base leaves the database changed:" + format_diff(lines)


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
            problems += [f"{revision}: {line}" for line in diff(before, after, "before", "after")]
            await upgrade(url, revision)
            previous = revision
    assert len(revisions()) >= 4
    assert not problems, "a downgrade does not undo its upgrade:" + format_diff(problems)


def _describe(value: Any) -> str:
    """One part of an autogenerate difference, as DDL-like text."""
    if isinstance(value, Table):
        return f"table {value.name}"
    if isinstance(value, Column):
        return f"column {value.table.name}.{value.name} {value.type!r}"
    if isinstance(value, Index):
        parts = ", ".join(str(expression) for expression in value.expressions)
        table = value.table.name if value.table is not None else "?"
        return f"index {value.name} ON {table}({parts})"
    if isinstance(value, ForeignKeyConstraint):
        targets = ", ".join(element.target_fullname for element in value.elements)
        return (
            f"foreign key {value.name} ({', '.join(value.column_keys)}) REFERENCES {targets}"
            f" ON DELETE {value.ondelete or 'NO ACTION'}"
        )
    if isinstance(value, Constraint):
        columns = ", ".join(column.name for column in value.columns)  # type: ignore[attr-defined]
        return f"{type(value).__name__} {value.name} ({columns})"
    if isinstance(value, DefaultClause):
        argument = value.arg
        return f"DEFAULT {argument.text if isinstance(argument, TextClause) else argument}"
    if isinstance(value, TypeEngine):
        return repr(value)
    return str(value)


def describe(difference: Any) -> list[str]:
    """Readable lines for one item of `compare_metadata` (a list for column changes)."""
    if isinstance(difference, list):
        return [line for item in difference for line in describe(item)]
    operation, *parts = difference
    if operation.startswith("modify_"):
        _, table, column, _, old, new = parts
        return [f"{operation} {table}.{column}: database {_describe(old)} | ORM {_describe(new)}"]
    shown = " ".join(_describe(part) for part in parts if part is not None)
    return [f"{operation} {shown}"]


def _orm_differences(connection: Connection) -> list[str]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return sorted(
        line for item in compare_metadata(context, Base.metadata) for line in describe(item)
    )


async def test_orm_models_match_the_migrated_database(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_orm_differences)
    finally:
        await engine.dispose()
    assert differences == [], "ORM models differ from the migrations:" + format_diff(differences)
