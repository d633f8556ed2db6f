"""Drive one floor statement through asyncpg at a concurrency, print the figures as JSON.

Usage: python -m bench.floor DATABASE_URL CONCURRENCY SECONDS SPEC_FILE
(SPEC_FILE: {"sql": ..., "args": [...]}, uuids and timestamps as strings). Each of the
CONCURRENCY tasks holds one connection and runs the (prepared) statement back to back,
reading the whole JSON text, for SECONDS; CPU is this process's own and its PostgreSQL
backends' (from /proc) over that window.
"""

import asyncio
import json
import sys
import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import uvloop

from bench.procstat import CpuWindow


def _typed(value: str) -> Any:
    try:
        return uuid.UUID(value)
    except ValueError:
        return datetime.fromisoformat(value)


async def _worker(
    connection: asyncpg.Connection,
    sql: str,
    args: list[Any],
    deadline: float,
    latencies: list[float],
) -> tuple[int, int]:
    body_bytes = errors = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            text = await connection.fetchval(sql, *args)
            body_bytes += len(text)
        except asyncpg.PostgresError:
            errors += 1
        latencies.append(time.perf_counter() - started)
    return body_bytes, errors


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def drive(
    url: str, concurrency: int, seconds: float, sql: str, args: list[Any]
) -> dict[str, Any]:
    connections = [await asyncpg.connect(url) for _ in range(concurrency)]
    try:
        backends = [await c.fetchval("SELECT pg_backend_pid()") for c in connections]
        for connection in connections:
            await connection.fetchval(sql, *args)  # prepare once per connection, warm caches
        latencies: list[float] = []
        postgres = CpuWindow.start(backends)
        cpu, started = time.process_time(), time.perf_counter()
        totals = await asyncio.gather(
            *(_worker(c, sql, args, started + seconds, latencies) for c in connections)
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        postgres_cpu = postgres.stop(backends)
    finally:
        for connection in connections:
            await connection.close()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "errors": sum(errors for _, errors in totals),
        "body_bytes": sum(size for size, _ in totals),
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "cpu_seconds": cpu,
        "postgres_cpu_seconds": postgres_cpu,
    }


def main(argv: list[str]) -> int:
    url, concurrency, seconds, spec_file = argv
    with open(spec_file) as file:
        spec = json.load(file)
    args = [_typed(value) for value in spec["args"]]
    figures = uvloop.run(drive(url, int(concurrency), float(seconds), spec["sql"], args))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
