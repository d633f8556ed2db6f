"""PgBouncer in transaction pooling mode in front of the benchmark database.

Debian's `pgbouncer` (`apt-get install -y pgbouncer`), started in the foreground with a
generated configuration; it refuses to run as root, so it drops to the `postgres` user.
The server then connects through it with `DB_STATEMENT_CACHE_SIZE=0` (unique prepared
statement names, see db/engine.py) and its live feed on Redis (LISTEN does not survive
transaction pooling).
"""

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CONFIG = """[databases]
{database} = host={host} port={port} dbname={database} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = {pool_size}
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits,statement_timeout
logfile = {directory}/pgbouncer.log
pidfile =
"""
"""`statement_timeout` is a startup parameter of the app's connections, which PgBouncer cannot
pass on: behind it, set it on the role (`ALTER ROLE ... SET statement_timeout`)."""


@dataclass(frozen=True)
class Bouncer:
    url: str
    pid: int


@contextmanager
def running_pgbouncer(database_url: str, listen_port: int, pool_size: int) -> Iterator[Bouncer]:
    parts = urlsplit(database_url)
    database = parts.path.lstrip("/")
    user = parts.username or "postgres"
    with tempfile.TemporaryDirectory(prefix="bench-pgbouncer-") as directory:
        config = CONFIG.format(
            database=database,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=user,
            listen_port=listen_port,
            directory=directory,
            pool_size=pool_size,
        )
        Path(directory, "pgbouncer.ini").write_text(config)
        Path(directory, "userlist.txt").write_text(f'"{user}" ""\n')
        os.chmod(directory, 0o777)  # PgBouncer runs as `postgres` and logs here
        command = ["pgbouncer", "-u", "postgres", f"{directory}/pgbouncer.ini"]
        bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_listening(listen_port, bouncer)
            yield Bouncer(f"postgresql://{user}@127.0.0.1:{listen_port}/{database}", bouncer.pid)
        finally:
            bouncer.terminate()
            bouncer.wait(timeout=10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"pgbouncer exited: {error}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("pgbouncer did not start listening")
