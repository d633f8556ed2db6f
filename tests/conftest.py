"""The test world: a fresh migrated database, the real server over HTTP, factories.

Each test builds its own organization(s), so tests are isolated by tenant and never
need to clean up; the database itself is dropped at the end of the session.
"""

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.engine import create_engine
from tests.databases import migrated_database
from tests.factories import World
from tests.tools import missing_tools

# The suite exercises the development profile (GraphiQL, statement counts, the development
# secret) unless a test starts a server with ENVIRONMENT=production itself.
os.environ.setdefault("ENVIRONMENT", "development")


settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
"""Property tests without settings of their own run the `ci` profile: fixed examples, a
bounded count. `HYPOTHESIS_PROFILE=thorough` runs many more, by hand."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stock",
        action="store_true",
        help="run the suite on stock execution (FAST_PATH=false, EXECUTION=stock)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Stops the run at once when a program the suite needs is missing (tests/tools.py)."""
    missing = missing_tools()
    if missing:
        pytest.exit("\n".join(tool.missing_message() for tool in missing), returncode=4)
    if config.getoption("--stock"):
        # The servers the tests start inherit them.
        os.environ["FAST_PATH"] = "false"
        os.environ["EXECUTION"] = "stock"


def pytest_report_header(config: pytest.Config) -> str:
    return "execution: " + (
        "stock (FAST_PATH=false, EXECUTION=stock)"
        if config.getoption("--stock")
        else "compiled, fast path"
    )


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with migrated_database("engagement_test") as url:
        yield url


@pytest.fixture(scope="session")
async def owner_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The migrations' role: for building the world and checking what was written."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: str

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def logs(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def log_offset(self) -> int:
        """Where the log ends now: `logs_since` it reads what is written after."""
        return os.path.getsize(self.log_path)

    def logs_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")


def server_command() -> list[str]:
    """The program the tests start as the server: this checkout's CLI, or another build's
    when `ENGAGEMENT_API_SERVER_CMD` names one (to run these tests against it)."""
    custom = os.environ.get("ENGAGEMENT_API_SERVER_CMD")
    return shlex.split(custom) if custom else [sys.executable, "-m", "engagement_api.cli.main"]


def start_server(
    database_url: str, log_path: str, *, ready_path: str = "/readyz", **environment: str | None
) -> RunningServer:
    """`engagement-api serve` in a subprocess, as a user starts it; waits until `ready_path`
    answers 200 (`/healthz` for a server that is up but not ready). A variable given as None
    is left out of the server's environment, whatever the tests' own holds."""
    port = free_port()
    given = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **environment}
    env = {name: value for name, value in given.items() if value is not None}
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [*server_command(), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.logs()}")
        try:
            if httpx.get(f"{server.url}{ready_path}", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not become ready:\n{server.logs()}")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def own_server(
    database_url: str, factory: pytest.TempPathFactory, name: str, **environment: str
) -> Iterator[RunningServer]:
    """A fixture's server of its own (`yield from` it), its log in a temporary folder
    named `name`, stopped when the fixture ends."""
    running = start_server(database_url, str(factory.mktemp(name) / "server.log"), **environment)
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from own_server(
        database_url, tmp_path_factory, "server", METRICS_OPERATION_NAMES='["MetricsProbe"]'
    )


class GraphQLClient:
    """Posts GraphQL documents to the running server, as a given viewer."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The response body (`data`, `errors`, `extensions`) of a successful HTTP exchange."""
        response = await self.post(query, variables, token=token)
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """`data` of a response that must have no errors."""
        body = await self.execute(query, variables, token=token)
        assert "errors" not in body, body.get("errors")
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def gql(http: httpx.AsyncClient, server: RunningServer) -> GraphQLClient:
    return GraphQLClient(http, server.graphql_url)


@pytest.fixture
def world(owner_engine: AsyncEngine) -> World:
    return World(owner_engine)
