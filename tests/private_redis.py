"""A private Redis server for the test process, like the embedded PostgreSQL: Debian's
`redis-server` on a free port with its files in a temporary directory, no persistence,
stopped when the process exits. Nothing is assumed to listen on 6379."""

import atexit
import contextlib
import functools
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START_ATTEMPTS = 3
READY_WITHIN_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes], directory: Path) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(directory, ignore_errors=True)


def _start(directory: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    """One attempt: None when the port was taken meanwhile (the server exits at once)."""
    port = _free_port()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--save", "", "--appendonly", "no", "--daemonize", "no",
        "--logfile", str(directory / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _answers_ping(port):
            return process, port
        time.sleep(0.02)
    process.kill()
    return None


def _started() -> tuple[subprocess.Popen[bytes], str, Path]:
    directory = Path(tempfile.mkdtemp(prefix="engagement-redis-"))
    for _ in range(START_ATTEMPTS):
        started = _start(directory)
        if started is not None:
            process, port = started
            return process, f"redis://127.0.0.1:{port}/0", directory
    log = directory / "redis.log"
    raise RuntimeError(
        "redis-server did not start: " + (log.read_text() if log.exists() else "no log")
    )


@functools.cache
def private_redis_url() -> str:
    """`redis://` URL of this process's own Redis, started on first use."""
    process, url, directory = _started()
    atexit.register(_stop, process, directory)
    return url


@contextlib.contextmanager
def redis_of_its_own() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis for one test to break (stop, freeze), stopped when the block ends."""
    process, url, directory = _started()
    try:
        yield url, process
    finally:
        _stop(process, directory)
