"""The benchmark's tables, in Markdown (pasted as is into docs/performance.md)."""

from bench.measure import Result

HEADER = (
    "| query | run | conc | req/s | p50 ms | p99 ms | errors | KB/resp | SQL/req (w/o B/C) "
    "| CPU ms/req app | CPU ms/req PG | CPU ms/req total | RSS MB/worker |"
)
RULE = "|" + "---|" * (HEADER.count("|") - 1)


def _statements(result: Result) -> str:
    if result.target == "floor":
        return "1"
    return f"{result.statements:.0f} ({result.statements - 2:.0f})"


def line(result: Result) -> str:
    rss = "/".join(f"{value:.0f}" for value in result.rss_mb) or "-"
    return (
        f"| {result.name} | {result.target} | {result.concurrency} | {result.rps:.1f} "
        f"| {result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.errors} "
        f"| {result.bytes_per_request / 1000:.1f} | {_statements(result)} "
        f"| {result.app_cpu_ms:.2f} | {result.pg_cpu_ms:.2f} | {result.cpu_ms:.2f} | {rss} |"
    )


def _ratios(results: list[Result]) -> list[str]:
    floors = {(r.name, r.concurrency): r for r in results if r.target == "floor"}
    rows = [
        "| query | conc | CPU/req server ÷ floor | req/s floor ÷ server | p50 server ÷ floor |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        floor = floors.get((result.name, result.concurrency))
        if result.target != "server" or floor is None or not floor.cpu_ms or not result.rps:
            continue
        rows.append(
            f"| {result.name} | {result.concurrency} | {result.cpu_ms / floor.cpu_ms:.1f} "
            f"| {floor.rps / result.rps:.1f} | {result.p50_ms / max(floor.p50_ms, 1e-6):.1f} |"
        )
    return rows


def tables(results: list[Result], *, workers: int) -> str:
    lines = [f"Server workers: {workers}.", "", HEADER, RULE]
    lines += [line(result) for result in results]
    ratios = _ratios(results)
    if len(ratios) > 2:
        lines += ["", *ratios]
    return "\n".join(lines) + "\n"
