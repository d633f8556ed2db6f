"""Instructions per request of the app, counted by callgrind: the steady figure while working.

    .venv/bin/python -m bench.instructions [--only Q2] [--requests 10]
    .venv/bin/python -m bench.instructions --only "Q2 step"     # Q2 built up a part at a time

CPU time per request moves by 10-15% between two identical runs on a shared virtual
machine; the number of user-space instructions the process executes for a request moves by
0.2%. For each case this starts one process under `valgrind --tool=callgrind` with counting
off, sends the request `--warmup` times, counts (switched on and off by callgrind client
requests from a small C helper compiled with gcc on the spot) over `--requests` requests,
and prints the instructions per request. In one process through httpx's ASGI transport, as
`bench.serial`: the client's share is in the figure, PostgreSQL's is not. Needs Debian's
`valgrind` (with its headers) and gcc. It compares two versions of the code; it does not
replace `bench.run`, whose CPU milliseconds include everything a request costs.
"""

import argparse
import ctypes
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import uvloop

from bench import workload
from bench.serial import production_settings
from engagement_api.http.app import create_app
from engagement_api.settings import Settings

HELPER = r"""
#include <valgrind/callgrind.h>
void count_start(void) {
    CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT;
}
void count_stop(void) {
    CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION;
}
"""
COLLECTED = re.compile(r"Collected : (\d+)")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    description = __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="bench.instructions", description=description)
    parser.add_argument("--database-url", default="postgresql://root@127.0.0.1:5432/bench")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", action="append", help="run cases whose name contains this")
    parser.add_argument(
        "--env", action="append", default=[], help="a setting for the app, NAME=VALUE"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child: count this case
    parser.add_argument("--helper", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _compile_helper(directory: Path) -> Path:
    source, library = directory / "count.c", directory / "libcount.so"
    source.write_text(HELPER)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(source)], check=True)
    return library


def _count(args: argparse.Namespace, case: str, helper: Path, directory: Path) -> float:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--collect-atstart=no",
        f"--callgrind-out-file={directory}/callgrind.%p",
        sys.executable,
        "-m",
        "bench.instructions",
        "--database-url",
        args.database_url,
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--case",
        case,
        *(f"--env={item}" for item in args.env),
        "--helper",
        str(helper),
    ]
    done = subprocess.run(command, cwd=workload.ROOT, capture_output=True, text=True)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{case}: the counted run failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    return int(found.group(1)) / int(args.requests)


async def _child(args: argparse.Namespace) -> None:
    settings = production_settings(args.database_url, args.env)
    fixtures = await workload.load_fixtures(args.database_url)
    case = next(case for case in _every(fixtures, settings) if case.name == args.case)
    counter = ctypes.CDLL(str(args.helper))
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": f"Bearer {case.token}", "accept-encoding": "identity"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for _ in range(args.warmup):
            response = await client.post("/graphql", json=case.body(), headers=headers)
            if response.status_code != 200 or b'"errors"' in response.content:
                raise SystemExit(f"the request failed: {response.text[:500]}")
        counter.count_start()
        for _ in range(args.requests):
            await client.post("/graphql", json=case.body(), headers=headers)
        counter.count_stop()


def _every(fixtures: workload.Fixtures, settings: Settings) -> list[workload.Case]:
    return [
        *workload.build_cases(fixtures, settings),
        *workload.mutation_cases(fixtures, settings),
        *workload.step_cases(fixtures, settings),
    ]


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if args.case is not None:
        uvloop.run(_child(args))
        return
    settings = production_settings(args.database_url)
    fixtures = uvloop.run(workload.load_fixtures(args.database_url))
    every = _every(fixtures, settings)
    steps = {case.name for case in workload.step_cases(fixtures, settings)}
    cases = workload.chosen(every, args.only)
    if not args.only:  # the steps are a breakdown of Q2, counted when asked for
        cases = [case for case in cases if case.name not in steps]
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as temporary:
        directory = Path(temporary)
        helper = _compile_helper(directory)
        try:
            for case in cases:
                per_request = _count(args, case.name, helper, directory)
                print(f"{case.name:24} {per_request / 1e6:8.2f} M instructions/req", flush=True)
        finally:
            uvloop.run(workload.remove_posted(args.database_url))


if __name__ == "__main__":
    main()
