"""The `engagement-api` command as an operator runs it, a process per call: `migrate` to a
revision and to head, `seed` once and then idempotently, `token` by email, by id, with the
arguments it refuses."""

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from sqlalchemy import text

from engagement_api.auth import verify_token
from engagement_api.cli import seed
from engagement_api.db.engine import create_engine
from engagement_api.db.migrate import head_revision
from engagement_api.settings import Settings
from tests.catalog import scratch_database
from tests.conftest import server_command

JWT_SECRET = "cli-tests-secret-0123456789abcdef0123456789"


async def run(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": JWT_SECRET}
    return await asyncio.to_thread(
        subprocess.run,
        [*server_command(), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return found.scalar()
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def fresh() -> AsyncIterator[str]:
    async with scratch_database("cli") as url:
        yield url


@dataclass(frozen=True)
class Seeded:
    url: str
    first_seed: subprocess.CompletedProcess[str]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded() -> AsyncIterator[Seeded]:
    """A database migrated and seeded by the commands themselves."""
    async with scratch_database("cli_seeded") as url:
        migrated = await run(url, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        yield Seeded(url, await run(url, "seed"))


async def test_migrate_to_a_revision_then_to_head(fresh: str) -> None:
    assert (await run(fresh, "migrate", "0005")).returncode == 0
    assert await revision(fresh) == "0005"
    assert (await run(fresh, "migrate")).returncode == 0
    assert await revision(fresh) == head_revision()


async def test_seed_once_then_nothing_more_and_a_bad_scale_refused(seeded: Seeded) -> None:
    assert seeded.first_seed.returncode == 0, seeded.first_seed.stderr
    assert seeded.first_seed.stdout.startswith("Seeded scale 1")
    again = await run(seeded.url, "seed")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{seed.DEMO_ORG_NAME} already exists")
    refused = await run(seeded.url, "seed", "--scale", "0")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "--scale" in refused.stderr


async def test_token_by_email_and_by_id_and_what_it_refuses(seeded: Seeded) -> None:
    database = seeded.url
    settings = Settings(jwt_secret=JWT_SECRET)
    staff = seed.user_id(seed.DEMO_ORG_KEY, seed.DEMO_STAFF_EMAIL)
    by_email = await run(database, "token", "--email", seed.DEMO_STAFF_EMAIL, "--hours", "2")
    assert by_email.returncode == 0, by_email.stderr
    assert verify_token(by_email.stdout.strip(), settings) == staff
    by_id = await run(database, "token", "--user-id", str(staff))
    assert verify_token(by_id.stdout.strip(), settings) == staff
    shared = await run(database, "token", "--email", seed.SHARED_STAFF_EMAIL)
    assert (shared.returncode, shared.stdout) == (2, "")
    assert "--org" in shared.stderr
    both = await run(database, "token", "--email", "a@b.test", "--user-id", str(staff))
    assert (both.returncode, both.stdout) == (2, "")
    assert "not allowed with argument" in both.stderr
    too_long = await run(database, "token", "--email", seed.DEMO_STAFF_EMAIL, "--hours", "1e9")
    assert (too_long.returncode, too_long.stdout) == (2, "")
