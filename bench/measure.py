"""One timed measurement: a load generator in its own process, CPU read from /proc."""

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procstat import CpuWindow, rss_bytes

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass(frozen=True)
class Result:
    """The figures of one measurement (latencies in milliseconds)."""

    name: str
    target: str
    concurrency: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    bytes_per_request: float
    statements: float
    app_cpu_ms: float
    pg_cpu_ms: float
    rss_mb: tuple[float, ...] = ()

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.app_cpu_ms + self.pg_cpu_ms


@dataclass(frozen=True)
class Processes:
    """How to find the processes whose CPU a measurement charges."""

    app: Callable[[], Iterable[int]]
    postgres: Callable[[], Iterable[int]]


def _timed(
    processes: Processes, command: list[str], timeout: float
) -> tuple[dict[str, Any], float, float]:
    app_window = CpuWindow.start(processes.app())
    pg_window = CpuWindow.start(processes.postgres())
    output = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    app_cpu = app_window.stop(processes.app())
    pg_cpu = pg_window.stop(processes.postgres())
    line = [text for text in output.stdout.splitlines() if text.startswith("{")][-1]
    return json.loads(line), app_cpu, pg_cpu


def run_wrk(
    *,
    name: str,
    url: str,
    body: dict[str, Any],
    token: str,
    concurrency: int,
    seconds: int,
    processes: Processes,
    workers: Callable[[], Iterable[int]],
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(body, file)
        file.flush()
        threads = min(2, concurrency)
        command = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s"]
        command += ["--timeout", "10s", "-s", str(WRK_SCRIPT), url, "--", file.name, token]
        figures, app_cpu, pg_cpu = _timed(processes, command, seconds + 60)
    count = max(figures["responses"], 1)
    return Result(
        name=name,
        target="server",
        concurrency=concurrency,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=figures["failures"] + figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        bytes_per_request=figures["body_bytes"] / count,
        statements=figures["statements"] / count,
        app_cpu_ms=app_cpu * 1000 / count,
        pg_cpu_ms=pg_cpu * 1000 / count,
        rss_mb=tuple(rss_bytes(pid) / 2**20 for pid in workers()),
    )


def run_floor(
    *,
    name: str,
    database_url: str,
    sql: str,
    args: tuple[Any, ...],
    concurrency: int,
    seconds: int,
) -> Result:
    """The floor statement through asyncpg (`bench.floor`, a separate process)."""
    spec = json.dumps({"sql": sql, "args": [str(arg) for arg in args]})
    command = [sys.executable, "-m", "bench.floor", database_url, str(concurrency), str(seconds)]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        file.write(spec)
        file.flush()
        output = subprocess.run(
            [*command, file.name], capture_output=True, text=True, timeout=seconds + 60, check=True
        )
    figures = json.loads(output.stdout.splitlines()[-1])
    count = max(figures["requests"], 1)
    return Result(
        name=name,
        target="floor",
        concurrency=concurrency,
        requests=figures["requests"],
        seconds=figures["seconds"],
        errors=figures["errors"],
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        bytes_per_request=figures["body_bytes"] / count,
        statements=1.0,
        app_cpu_ms=figures["cpu_seconds"] * 1000 / count,
        pg_cpu_ms=figures["postgres_cpu_seconds"] * 1000 / count,
    )
