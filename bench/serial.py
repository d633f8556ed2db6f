"""The application's CPU per request, serial, in one process: the quick figure while working.

    .venv/bin/python -m bench.serial [--requests 40] [--only Q1] [--profile FILE.html]

Runs the app in this process (uvloop, production settings, the benchmark database seeded by
`bench.run`), sends each case's request `--warmup` times, then `--requests` times one after
the other through httpx's ASGI transport (uncompressed, as wrk asks), and prints the CPU
milliseconds per request of this process (`time.process_time`: PostgreSQL not included; the
client's share is small) and the wall milliseconds. With `--profile`, the timed requests
run under pyinstrument and its report is written (text for a `.txt` file, else HTML).
`bench.run` is the benchmark; this is its magnifying glass.
"""

import argparse
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench import workload
from bench.run import PRODUCTION_ENV
from engagement_api.http.app import create_app
from engagement_api.settings import Settings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.serial", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://root@127.0.0.1:5432/bench")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", action="append", help="run cases whose name contains this")
    parser.add_argument("--profile", type=Path, help="pyinstrument report (.txt: text, else HTML)")
    return parser.parse_args(argv)


def production_settings(database_url: str, overrides: Sequence[str] = ()) -> Settings:
    """The server's production settings (`bench.run.PRODUCTION_ENV`), quieter logs, then
    `overrides` (`NAME=VALUE`, as the environment would set them)."""
    production = {name.lower(): value for name, value in PRODUCTION_ENV.items()}
    changed = dict(item.split("=", 1) for item in overrides)
    changed = {name.lower(): value for name, value in changed.items()}
    return Settings.model_validate(
        {**production, "database_url": database_url, "log_level": "WARNING", **changed}
    )


async def _measure(
    send: Callable[[], Awaitable[httpx.Response]], requests: int
) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        response = await send()
        if response.status_code != 200 or b'"errors"' in response.content:
            raise SystemExit(f"the request failed: {response.text[:500]}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / requests, wall * 1000 / requests


async def _run(args: argparse.Namespace) -> None:
    settings = production_settings(args.database_url)
    fixtures = await workload.load_fixtures(args.database_url)
    cases = workload.chosen(workload.build_cases(fixtures, settings), args.only)
    app = create_app(settings)
    profiler: Any = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for case in cases:
            body = case.body()
            headers = {"authorization": f"Bearer {case.token}", "accept-encoding": "identity"}

            def send(body: dict[str, Any] = body, h: dict[str, str] = headers) -> Any:
                return client.post("/graphql", json=body, headers=h)

            if args.warmup:
                await _measure(send, args.warmup)
            if profiler is not None:
                profiler.start()
            cpu_ms, wall_ms = await _measure(send, args.requests)
            if profiler is not None:
                profiler.stop()
            print(f"{case.name:24} {cpu_ms:8.2f} ms CPU/req {wall_ms:8.2f} ms wall/req", flush=True)
    if profiler is not None:
        text = args.profile.suffix == ".txt"
        args.profile.write_text(profiler.output_text() if text else profiler.output_html())
        print(f"profile: {args.profile}")


def main(argv: list[str] | None = None) -> None:
    uvloop.run(_run(_arguments(argv)))


if __name__ == "__main__":
    main()
