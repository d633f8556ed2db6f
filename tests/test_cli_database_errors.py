"""Every command that uses the database, as an operator runs it, against a database it
cannot use (nothing listening, a database or a role that does not exist, a role without
privileges): one line on stderr naming the cause, `engagement-api: ` first, exit code 2,
no traceback and no SQL."""

import os
import subprocess
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from engagement_api.db.engine import with_database
from tests.conftest import free_port, server_command

JWT_SECRET = "cli-database-errors-secret-0123456789abcdef"

COMMANDS = {
    "migrate": ["migrate"],
    "migrate-base": ["migrate", "base"],
    "seed": ["seed"],
    "serve-demo": ["serve", "--demo", "--port", "0"],
    "token": ["token", "--email", "staff@acme.test"],
}


def _as(url: str, **parts: object) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def unprivileged(database_url: str) -> AsyncIterator[str]:
    """The migrated test database, as a login role granted nothing."""
    name = f"cli_unprivileged_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS")
        yield _as(database_url, username=name, password=None)
    finally:
        await owner.execute(f"DROP OWNED BY {name}")
        await owner.execute(f"DROP ROLE {name}")
        await owner.close()


def run(database_url: str, arguments: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": JWT_SECRET}
    return subprocess.run(
        [*server_command(), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def said_in_one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert (done.returncode, done.stdout) == (2, ""), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "[SQL:" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("engagement-api: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_nothing_listening(database_url: str, command: list[str]) -> None:
    url = _as(database_url, host="127.0.0.1", port=free_port())
    line = said_in_one_line(run(url, command))
    assert "cannot connect to the database" in line
    assert "Connect call failed" in line


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_database_that_does_not_exist(database_url: str, command: list[str]) -> None:
    url = with_database(database_url, f"missing_{uuid.uuid4().hex[:8]}")
    line = said_in_one_line(run(url, command))
    assert "cannot connect to the database" in line
    assert "does not exist" in line


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_role_that_does_not_exist(database_url: str, command: list[str]) -> None:
    url = _as(database_url, username=f"nobody_{uuid.uuid4().hex[:8]}", password="secret-pw")
    line = said_in_one_line(run(url, command))
    assert "cannot connect to the database" in line
    assert "nobody_" in line
    assert "secret-pw" not in line


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_role_without_privileges(unprivileged: str, command: list[str]) -> None:
    line = said_in_one_line(run(unprivileged, command))
    if command[0] == "token":  # it reads nothing before asking for the owner connection
        assert "owner connection" in line
    else:
        assert "the database refused the command" in line
        assert "permission denied" in line
