"""The token commands the README, docs/clients.md and `seed`'s output give work as written,
typed into a new shell of a fresh checkout: no `ENVIRONMENT` (so production) and no
`JWT_SECRET` (so the development secret, which production refuses to sign with)."""

import os
import re
import shlex
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from engagement_api.auth import verify_token
from engagement_api.cli import seed
from engagement_api.settings import DEVELOPMENT_JWT_SECRET, Settings
from tests.catalog import scratch_database
from tests.conftest import server_command

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "clients.md"]
DEVELOPMENT = Settings(jwt_secret=DEVELOPMENT_JWT_SECRET)
PROGRAM = re.compile(r"^(?:\S*/)?engagement-api$")


def fresh_shell(database_url: str) -> dict[str, str]:
    unset = {"ENVIRONMENT", "JWT_SECRET", "JWT_ALGORITHM", "JWT_PUBLIC_KEY"}
    return {k: v for k, v in os.environ.items() if k not in unset} | {"DATABASE_URL": database_url}


def run_as_typed(command: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` as a shell runs it: its leading NAME=value words set the environment, and
    `engagement-api` (at any path) is this checkout's CLI."""
    words = shlex.split(command)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        environment = environment | {name: value}
    assert PROGRAM.match(words[0]), command
    return subprocess.run(
        [*server_command(), *words[1:]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded() -> AsyncIterator[tuple[str, str]]:
    """A database seeded by `engagement-api seed` from a fresh shell, and what it printed."""
    async with scratch_database("token_instructions") as url:
        done = run_as_typed("engagement-api seed", fresh_shell(url))
        assert done.returncode == 0, done.stderr
        yield url, done.stdout


def documented_token_commands() -> list[str]:
    commands = []
    for document in DOCUMENTS:
        text = " ".join(document.read_text().split())  # a command may wrap in the source
        commands += re.findall(r"`([^`]*engagement-api token --email [^`]+)`", text)
    return commands


def test_the_documents_give_token_commands() -> None:
    assert len(documented_token_commands()) >= len(DOCUMENTS)


@pytest.mark.parametrize("command", documented_token_commands())
def test_a_documented_token_command_works_as_written(seeded: tuple[str, str], command: str) -> None:
    url, _ = seeded
    done = run_as_typed(command, fresh_shell(url))
    assert done.returncode == 0, done.stderr
    email = shlex.split(command)[-1]  # a user of the demo organization
    assert verify_token(done.stdout.strip(), DEVELOPMENT) == seed.user_id(seed.DEMO_ORG_KEY, email)


@pytest.mark.parametrize("environment", [{}, {"ENVIRONMENT": "development"}])
def test_the_seed_output_gives_a_token_command_that_works(
    seeded: tuple[str, str], environment: dict[str, str]
) -> None:
    """The seed may run under dev.py (ENVIRONMENT=development) or not; the command it
    prints is typed into a new shell either way."""
    url, _ = seeded
    again = run_as_typed("engagement-api seed", fresh_shell(url) | environment)
    assert again.returncode == 0, again.stderr
    (hint,) = re.findall(r"^Users \((.*)\):$", again.stdout, re.MULTILINE)
    command = hint.replace("EMAIL", seed.DEMO_STAFF_EMAIL).replace(" [--org ORG]", "")
    done = run_as_typed(command, fresh_shell(url))
    assert done.returncode == 0, done.stderr
    expected = seed.user_id(seed.DEMO_ORG_KEY, seed.DEMO_STAFF_EMAIL)
    assert verify_token(done.stdout.strip(), DEVELOPMENT) == expected
