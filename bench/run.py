"""The read graph benchmark (see docs/performance.md).

    .venv/bin/python -m bench.run [--workers 2] [--seconds 10] [--only Q1] [--no-floor]

Seeds scale 10 into its own database once, starts `engagement-api serve` with production
settings, checks that every floor statement returns the server's data, then drives each
query with wrk at each concurrency and its floor through asyncpg, and prints req/s,
p50/p99, errors, bytes, SQL statements and CPU ms per request (server and PostgreSQL,
from /proc over the timed window), with the server/floor ratios.
"""

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import report, workload
from bench.measure import Processes, Result, run_floor, run_wrk
from bench.pgbouncer import running_pgbouncer
from bench.procstat import children
from engagement_api.settings import Settings

JWT_SECRET = "benchmark-secret-0123456789abcdef0123456789"
PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "INTROSPECTION": "false",
    "LOG_JSON": "true",
    "JWT_SECRET": JWT_SECRET,
    "EXPOSE_SQL_STATEMENTS": "true",
}
"""What an operator sets in production (README, "Configuration"), plus the statement count
in each response, which the report's SQL/req column reads (one integer per response)."""
BEHIND_PGBOUNCER = [
    "DB_STATEMENT_CACHE_SIZE=0",
    "DB_PLAN_CACHE_MODE=auto",
    "REDIS_URL=redis://127.0.0.1:6379/0",
]
"""Unique prepared-statement names and no startup parameter PgBouncer would refuse; the live
feed on Redis (no LISTEN through PgBouncer)."""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://root@127.0.0.1:5432/bench")
    parser.add_argument(
        "--server-database-url",
        help="the server's DATABASE_URL when it differs (e.g. through PgBouncer)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18787)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--only", action="append", help="run cases whose name contains this")
    parser.add_argument(
        "--steps",
        action="store_true",
        help='also the thread page built up a part at a time ("Q2 step ...")',
    )
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument(
        "--extra-pid",
        type=int,
        action="append",
        default=[],
        help="charge this process's CPU to PostgreSQL (e.g. PgBouncer)",
    )
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="serve through PgBouncer in transaction pooling mode (bench/pgbouncer.py)",
    )
    parser.add_argument("--pgbouncer-port", type=int, default=16432)
    parser.add_argument("--pgbouncer-pool", type=int, default=20)
    return parser.parse_args(argv)


@contextmanager
def running_server(args: argparse.Namespace) -> Iterator[int]:
    env = {**os.environ, **PRODUCTION_ENV}
    env["DATABASE_URL"] = args.server_database_url or args.database_url
    env.update(item.split("=", 1) for item in args.env)
    command = [sys.executable, "-m", "engagement_api.cli.main", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(args.port), "--workers", str(args.workers)]
    log = open(f"/tmp/bench-server-{args.port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(command, cwd=workload.ROOT, env=env, stdout=log, stderr=log)
    try:
        _wait_ready(f"http://127.0.0.1:{args.port}/readyz", server)
        yield server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def _postgres_pids(database_url: str) -> list[int]:
    """The backends of the benchmark database (other databases' tests are not charged)."""
    database = database_url.rsplit("/", 1)[-1].split("?")[0]
    query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"
    query += " AND pid <> pg_backend_pid()"
    output = subprocess.run(
        ["psql", database_url, "-Atc", query], capture_output=True, text=True, check=True
    )
    return [int(line) for line in output.stdout.split()]


def _same_data(url: str, case: workload.Case, database_url: str) -> str:
    """Whether the server's answer to `case` has no error and, when the case has a floor
    statement, the same `data` as the floor's."""
    headers = {"authorization": f"Bearer {case.token}"}
    served = httpx.post(url, json=case.body(), headers=headers, timeout=60).json()
    if served.get("errors"):
        return f"server errors: {served['errors']}"
    if case.floor_sql is None:
        return "no floor"
    same = asyncio.run(workload.floor_data(database_url, case)) == served["data"]
    return "same data" if same else "DIFFERENT DATA"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not args.no_seed:
        workload.seed(args.database_url)
    fixtures = asyncio.run(workload.load_fixtures(args.database_url))
    url = f"http://127.0.0.1:{args.port}/graphql"
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        if args.pgbouncer:
            bouncer = stack.enter_context(
                running_pgbouncer(args.database_url, args.pgbouncer_port, args.pgbouncer_pool)
            )
            args.server_database_url = bouncer.url
            args.extra_pid.append(bouncer.pid)
            args.env = [*BEHIND_PGBOUNCER, *args.env]
        server_pid = stack.enter_context(running_server(args))
        settings = Settings(jwt_secret=JWT_SECRET)
        steps = workload.step_cases(fixtures, settings) if args.steps else []
        cases = workload.chosen([*workload.build_cases(fixtures, settings), *steps], args.only)
        processes = Processes(
            app=lambda: [server_pid, *children(server_pid)],
            postgres=lambda: [*_postgres_pids(args.database_url), *args.extra_pid],
        )
        workers = lambda: children(server_pid) or [server_pid]  # noqa: E731
        for case in cases:
            verdict = _same_data(url, case, args.database_url)
            print(f"{case.name}: {verdict}", flush=True)
            if verdict not in ("same data", "no floor"):
                raise SystemExit(f"{case.name}: the figures would compare different work")
        for case in cases:
            for concurrency in args.concurrency:
                common = {
                    "url": url,
                    "body": case.body(),
                    "token": case.token,
                    "concurrency": concurrency,
                    "processes": processes,
                    "workers": workers,
                }
                run_wrk(name=case.name, seconds=args.warmup, **common)
                results.append(run_wrk(name=case.name, seconds=args.seconds, **common))
                print(report.line(results[-1]), flush=True)
    if not args.no_floor:
        for case in cases:
            if case.floor_sql is None:
                continue
            for concurrency in args.concurrency:
                results.append(
                    run_floor(
                        name=case.name,
                        database_url=args.database_url,
                        sql=case.floor_sql,
                        args=case.floor_args,
                        concurrency=concurrency,
                        seconds=args.seconds,
                    )
                )
                print(report.line(results[-1]), flush=True)
    text = report.tables(results, workers=args.workers)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
