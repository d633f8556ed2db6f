"""Soak test: a steady mixed load for minutes; errors, latency, memory over time.

    .venv/bin/python -m bench.soak [--seconds 180] [--rate 60] [--workers 1]

Seeds the demo data (scale 1) into its own database, starts `engagement-api serve` with
production settings, then holds an open-loop load at `--rate` requests per second for
`--seconds`: the SPA dashboard (STAFF), thread pages paged forward (CLIENT) and posted
messages (STAFF), by the weights below. It prints the error count (must be 0), latency
percentiles per kind, and the server's resident memory sampled from /proc over time, with
the growth over the second half of the run (must stay flat: no unbounded growth).
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.procstat import children, rss_bytes
from engagement_api.cli.seed import run_seed
from engagement_api.cli.tokens import demo_tokens
from engagement_api.db.engine import create_engine, with_database
from engagement_api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "soak-secret-0123456789abcdef0123456789abcdef"
PRODUCTION_ENV = {"ENVIRONMENT": "production", "INTROSPECTION": "false", "LOG_LEVEL": "WARNING"}
WEIGHTS = {"dashboard": 3, "thread": 5, "post": 2}
MAX_IN_FLIGHT = 256
DASHBOARD = (ROOT / "clients" / "documents" / "dashboard.graphql").read_text()
THREAD = (ROOT / "clients" / "documents" / "thread.graphql").read_text()
POST = (ROOT / "clients" / "documents" / "post-message.graphql").read_text()
TARGETS = """{ engagements(first: 50, status: [ACTIVE]) { edges { node {
  conversations(first: 20, status: OPEN) { edges { node { id } } } } } } }"""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://root@127.0.0.1:5432/soak")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=18797)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=6)
    return parser.parse_args(argv)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    memory: list[tuple[float, int]] = field(default_factory=list)
    dropped: int = 0


@dataclass
class Targets:
    staff: str
    client: str
    staff_threads: list[str]
    client_threads: list[str]
    cursors: dict[str, str | None] = field(default_factory=dict)


async def _ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(with_database(url, "postgres"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _start_server(args: argparse.Namespace, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": args.database_url}
    env["JWT_SECRET"] = JWT_SECRET
    command = [sys.executable, "-m", "engagement_api.cli.main", "serve", "--port", str(args.port)]
    command += ["--workers", str(args.workers)]
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)


async def _wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60):
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited; see its log")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


async def _graphql(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json() if response.status_code == 200 else {}
    if response.status_code != 200:
        body["errors"] = [{"extensions": {"code": f"HTTP {response.status_code}"}}]
    return body


def _threads(body: dict[str, Any]) -> list[str]:
    return [
        conversation["node"]["id"]
        for engagement in body["data"]["engagements"]["edges"]
        for conversation in engagement["node"]["conversations"]["edges"]
    ]


async def _targets(http: httpx.AsyncClient, database_url: str) -> Targets:
    engine = create_engine(database_url)
    try:
        tokens = await demo_tokens(engine, Settings(jwt_secret=JWT_SECRET))
    finally:
        await engine.dispose()
    staff, client = tokens["staff"], tokens["client"]
    staff_threads = _threads(await _graphql(http, staff, TARGETS, {}))
    client_threads = _threads(await _graphql(http, client, TARGETS, {}))
    if not staff_threads or not client_threads:
        raise RuntimeError("the seed has no open conversation in an active engagement")
    return Targets(staff, client, staff_threads, client_threads)


def _error_codes(kind: str, body: dict[str, Any]) -> list[str]:
    codes = [str(e.get("extensions", {}).get("code")) for e in body.get("errors") or []]
    if kind == "post" and not codes:
        payload = (body.get("data") or {}).get("postMessage") or {}
        codes = [f"user error {e['code']}" for e in payload.get("errors") or []]
    return codes


async def _one(
    kind: str, http: httpx.AsyncClient, targets: Targets, rng: random.Random, stats: Stats
) -> None:
    thread = rng.choice(targets.client_threads if kind == "thread" else targets.staff_threads)
    if kind == "dashboard":
        token, query, variables = targets.staff, DASHBOARD, {}
    elif kind == "thread":
        token, query = targets.client, THREAD
        variables = {"id": thread, "first": 20, "after": targets.cursors.get(thread)}
    else:
        content = f"soak {time.time_ns()} {'x' * rng.randrange(10, 400)}"
        token, query = targets.staff, POST
        variables = {"input": {"conversationId": thread, "content": content}}
    started = time.perf_counter()
    try:
        body = await _graphql(http, token, query, variables)
    except httpx.HTTPError as error:
        stats.errors[f"{kind}: {type(error).__name__}"] += 1
        return
    stats.latencies[kind].append(time.perf_counter() - started)
    for code in _error_codes(kind, body):
        stats.errors[f"{kind}: {code}"] += 1
    if kind == "thread" and not body.get("errors"):
        page = body["data"]["conversation"]["messages"]["pageInfo"]
        targets.cursors[thread] = page["endCursor"] if page["hasNextPage"] else None


def _server_rss(pid: int) -> int:
    return sum(rss_bytes(p) for p in (pid, *children(pid)))


async def _sample_memory(pid: int, stats: Stats, every: float, start: float) -> None:
    while True:
        stats.memory.append((time.monotonic() - start, _server_rss(pid)))
        await asyncio.sleep(every)


async def _drive(
    args: argparse.Namespace, http: httpx.AsyncClient, targets: Targets, pid: int
) -> Stats:
    stats, rng = Stats(), random.Random(args.seed)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    in_flight: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    sampler = asyncio.create_task(_sample_memory(pid, stats, args.sample_seconds, start))
    for n in range(int(args.seconds * args.rate)):
        await asyncio.sleep(max(0.0, start + n / args.rate - time.monotonic()))
        if len(in_flight) >= MAX_IN_FLIGHT:
            stats.dropped += 1
            continue
        kind = rng.choices(kinds, weights)[0]
        task = asyncio.create_task(_one(kind, http, targets, rng, stats))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    sampler.cancel()
    stats.memory.append((time.monotonic() - start, _server_rss(pid)))
    return stats


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def _slope_mb_per_minute(points: list[tuple[float, int]]) -> float:
    """Least-squares growth of RSS over `points`, in MB per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points) or 1.0
    slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / spread
    return slope * 60 / 1e6


def _quarter_peaks(memory: list[tuple[float, int]], seconds: float) -> list[float]:
    """The highest RSS (MB) sampled in each quarter of the run."""
    peaks = [0.0] * 4
    for elapsed, rss in memory:
        quarter = min(3, int(4 * elapsed / seconds))
        peaks[quarter] = max(peaks[quarter], rss / 1e6)
    return peaks


def report(args: argparse.Namespace, stats: Stats) -> bool:
    requests = sum(len(v) for v in stats.latencies.values())
    errors = sum(stats.errors.values())
    print(f"\nsoak: {args.seconds:.0f} s at {args.rate:.0f} req/s, {args.workers} worker(s)")
    print(
        f"requests {requests}, errors {errors}, dropped (over {MAX_IN_FLIGHT} in flight) "
        f"{stats.dropped}"
    )
    for name, count in stats.errors.most_common():
        print(f"  error {name}: {count}")
    print(f"{'kind':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    everything = [v for values in stats.latencies.values() for v in values]
    for kind, values in [*sorted(stats.latencies.items()), ("all", everything)]:
        print(
            f"{kind:<10} {len(values):>7} {_percentile(values, 0.5):>8.1f} "
            f"{_percentile(values, 0.95):>8.1f} {_percentile(values, 0.99):>8.1f} "
            f"{max(values) * 1000:>8.1f}"
        )
    print("server RSS (MB) over time:")
    for elapsed, rss in stats.memory:
        print(f"  {elapsed:>6.0f} s  {rss / 1e6:>7.1f}")
    quarters = _quarter_peaks(stats.memory, args.seconds)
    print("peak RSS per quarter (MB): " + ", ".join(f"{peak:.1f}" for peak in quarters))
    second_half = [p for p in stats.memory if p[0] >= args.seconds / 2]
    growth = _slope_mb_per_minute(second_half)
    print(f"RSS growth over the second half: {growth:+.2f} MB/min")
    return errors == 0 and stats.dropped == 0


async def soak(args: argparse.Namespace) -> bool:
    await _ensure_database(args.database_url)
    await asyncio.to_thread(run_seed, 1, database_url=args.database_url)
    log = Path(f"/tmp/soak-server-{args.port}.log")
    process = _start_server(args, log)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    base = f"http://127.0.0.1:{args.port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
            await _wait_ready(http, process)
            targets = await _targets(http, args.database_url)
            stats = await _drive(args, http, targets, process.pid)
    finally:
        process.terminate()
        process.wait(15)
    print(f"server log: {log}")
    return report(args, stats)


def main(argv: list[str] | None = None) -> int:
    return 0 if asyncio.run(soak(_arguments(argv))) else 1


if __name__ == "__main__":
    sys.exit(main())
