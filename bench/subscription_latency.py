"""Live feed delivery latency: post to receive, with many subscribers.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.subscription_latency [--subscribers 1000] [--posts 30]
        [--conversations 1] [--posters 1] [--backend postgres|redis]
        [--workers 1] [--servers 1]

Creates a scratch database, starts `--servers` `engagement-api serve` processes of
`--workers` workers each (with `--backend redis`, on a Redis of its own started for the
run, never one already listening), opens the
subscriptions over graphql-transport-ws, each WebSocket as its own viewer (`messageEvents`
resolves every event with each viewer's permissions): each conversation's client once,
the rest staff members with `--per-connection` subscriptions each (the server's cap),
round-robin over the conversations, the WebSockets round-robin over the servers (the
kernel spreads a server's connections over its workers). Warm-up posts follow until
every subscription has received one (the protocol has no acknowledgement of a
subscription, and /healthz answers for one worker). Then `--posters` clients post
through `postMessage`, each waiting until every subscriber of the conversation has the
event before posting again, and the delivery latency is printed: from just before the
HTTP post is sent to the moment a subscriber's client reads the event, over every (post,
subscriber) pair.
Every subscription must receive every measured post once, in order: the events lost,
duplicated or out of order are counted (and make the run fail). Also printed: the CPU
the servers (every process) and the benchmark's own client spent per delivery while
posting, and the servers' resident memory per idle subscription (the growth from before
the first WebSocket to all subscribed, divided by the subscriptions; it includes each
WebSocket's share).

With one conversation every post reaches all subscribers (the worst case); with many,
each post reaches a few while the posters keep the process busy (a live deployment).
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop

from bench.procstat import CpuWindow, children, rss_bytes
from engagement_api.db import migrate
from engagement_api.db.engine import create_engine
from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer
from tests.databases import create_database, drop_database
from tests.factories import Made, World
from tests.live_feed import backend_environment, post, servers
from tests.ws_client import GraphQLWebSocket

FEED = """subscription Feed($id: ID!) {
  messageEvents(conversationId: $id) { kind messageId message { id content sender { id } } }
}"""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.subscription_latency")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--per-connection", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--posters", type=int, default=1, help="concurrent posting clients")
    parser.add_argument("--backend", choices=["postgres", "redis"], default="postgres")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per server")
    parser.add_argument("--servers", type=int, default=1, help="server processes")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    return parser.parse_args(argv)


class Receiver:
    """Reads one WebSocket and stamps every event with the time it was read, per
    subscription."""

    def __init__(self, ws: GraphQLWebSocket, run: "Run", index: int):
        self.ws = ws
        self.run_state = run
        self.index = index

    async def run(self) -> None:
        async for raw in self.ws.connection:
            now = time.perf_counter()
            message = orjson.loads(raw)
            if message.get("type") == "ping":
                await self.ws.send({"type": "pong"})
            elif message.get("type") == "next":
                event = message["payload"]["data"]["messageEvents"]
                self.run_state.arrived((self.index, message["id"]), event["messageId"], now)
            else:
                print("unexpected", message, file=sys.stderr)


@dataclass(frozen=True)
class Plan:
    """Who subscribes to what: each conversation's client once (its own connection), the
    rest staff members, `per_connection` subscriptions per staff connection, round-robin
    over the conversations."""

    clients: list[tuple[Made, Made]]
    staff: list[tuple[Made, list[Made]]]
    conversations: list[Made]

    def connections(self) -> list[tuple[Made, list[Made]]]:
        return [(client, [thread]) for client, thread in self.clients] + self.staff


async def _plan(database_url: str, args: argparse.Namespace) -> Plan:
    engine = create_engine(database_url)
    try:
        world = World(engine)
        org = await world.organization("Bench")
        clients = []
        for _ in range(args.conversations):
            client = await world.user(org, Role.CLIENT)
            engagement = await world.engagement(org, client)
            clients.append((client, await world.conversation(engagement)))
        conversations = [conversation for _, conversation in clients]
        remaining = args.subscribers - len(clients)
        staff = []
        for start in range(0, remaining, args.per_connection):
            member = await world.user(org, Role.STAFF)
            count = min(args.per_connection, remaining - start)
            threads = [conversations[(start + i) % len(conversations)] for i in range(count)]
            staff.append((member, threads))
        return Plan(clients, staff, conversations)
    finally:
        await engine.dispose()


@dataclass
class Run:
    """The subscriptions: which conversation each follows, and what each received."""

    following: dict[tuple[int, str], str]
    seen: dict[tuple[int, str], list[Any]]
    readers: list[asyncio.Task[None]]
    waiting: dict[str, tuple[int, asyncio.Event]] = field(default_factory=dict)
    """Message ids awaited, with the deliveries still missing and the event to set."""

    def arrived(self, key: tuple[int, str], message_id: str, now: float) -> None:
        self.seen[key].append((message_id, now))
        waiter = self.waiting.get(message_id)
        if waiter is not None:
            missing, done = waiter
            self.waiting[message_id] = (missing - 1, done)
            if missing == 1:
                done.set()

    def holders(self, thread: Made) -> list[tuple[int, str]]:
        return [key for key, gid in self.following.items() if gid == thread.gid]


async def _subscribe(stack: AsyncExitStack, servers: list[RunningServer], plan: Plan) -> Run:
    run = Run({}, defaultdict(list), [])
    for index, (viewer, threads) in enumerate(plan.connections()):
        server = servers[index % len(servers)]
        ws = await stack.enter_async_context(
            GraphQLWebSocket.open(server.graphql_url, token=viewer.token, reader=False)
        )
        for thread in threads:
            operation = await ws.subscribe(FEED, {"id": thread.gid})
            run.following[(index, operation)] = thread.gid
        run.readers.append(asyncio.create_task(Receiver(ws, run, index).run()))
    return run


async def _warm_up(gql: GraphQLClient, plan: Plan, run: Run) -> None:
    """Post to each conversation until every subscription has received an event (a post
    at a time, each given time to reach everyone), then wait for the frames to stop."""
    author = plan.staff[0][0]
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(600):
        for thread in plan.conversations:
            holders = run.holders(thread)
            while not all(run.seen[key] for key in holders):
                await post(gql, author, thread, "warm-up")
                deadline = loop.time() + 15
                while loop.time() < deadline and not all(run.seen[key] for key in holders):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        await _quiet(run)
    run.seen.clear()


async def _quiet(run: Run) -> None:
    """Until no frame arrived for a second."""
    count = -1
    while count != sum(map(len, run.seen.values())):
        count = sum(map(len, run.seen.values()))
        await asyncio.sleep(1.0)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _poster(
    gql: GraphQLClient,
    plan: Plan,
    run: Run,
    numbers: Iterator[int],
    sent: dict[str, float],
    posts: list[float],
    order: dict[str, list[str]],
) -> None:
    """Post, wait until every subscriber of the conversation has the event, post again."""
    author = plan.staff[0][0]
    for number in numbers:
        thread = plan.conversations[number % len(plan.conversations)]
        holders = run.holders(thread)
        started = time.perf_counter()
        message_id = await post(gql, author, thread, f"m{number}")
        posts.append(time.perf_counter() - started)
        sent[message_id] = started
        order[thread.gid].append(message_id)
        # Deliveries read before the post's answer count too.
        early = sum(1 for key in holders for m, _ in run.seen[key][-4:] if m == message_id)
        done = asyncio.Event()
        run.waiting[message_id] = (len(holders) - early, done)
        if early == len(holders):
            done.set()
        async with asyncio.timeout(120):
            await done.wait()


def _server_pids(servers: list[RunningServer]) -> list[int]:
    pids = []
    for server in servers:
        pids += [server.process.pid, *children(server.process.pid)]
    return pids


def _rss(servers: list[RunningServer]) -> int:
    return sum(rss_bytes(pid) for pid in _server_pids(servers))


async def _measure(
    servers: list[RunningServer], args: argparse.Namespace, database_url: str
) -> None:
    plan = await _plan(database_url, args)
    posts: list[float] = []
    sent: dict[str, float] = {}
    order: dict[str, list[str]] = defaultdict(list)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        gql = GraphQLClient(http, servers[0].graphql_url)
        for server in servers:  # every server has served a request (a warm baseline)
            baseline = GraphQLClient(http, server.graphql_url)
            await post(baseline, plan.staff[0][0], plan.conversations[0], "baseline")
        await asyncio.sleep(1.0)
        rss_before = _rss(servers)
        run = await _subscribe(stack, servers, plan)
        await _warm_up(gql, plan, run)
        rss_idle = _rss(servers)
        numbers = iter(range(args.posts))
        pids = _server_pids(servers)
        server_cpu = CpuWindow.start(pids)
        client_cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(
            *(_poster(gql, plan, run, numbers, sent, posts, order) for _ in range(args.posters))
        )
        elapsed = time.perf_counter() - started
        await _quiet(run)  # anything late (a duplicate) arrives
        cpu = (server_cpu.stop(pids), time.process_time() - client_cpu)
        for reader in run.readers:
            reader.cancel()
    checks = _check(run, order)
    latencies = [stamp - sent[m] for seen in run.seen.values() for m, stamp in seen if m in sent]
    memory = (rss_idle - rss_before) / max(1, len(run.following))
    _report(args, latencies, posts, elapsed, cpu, memory, checks)
    if any(checks.values()):
        raise SystemExit(f"events lost, duplicated or out of order: {checks}")


def _check(run: Run, order: dict[str, list[str]]) -> dict[str, int]:
    """Each subscription against the posts of its conversation, in order, once each."""
    lost = duplicated = out_of_order = 0
    for key, gid in run.following.items():
        expected = order[gid]
        received = [m for m, _ in run.seen[key]]
        counts = Counter(received)
        lost += sum(1 for m in expected if counts[m] == 0)
        duplicated += sum(n - 1 for n in counts.values() if n > 1)
        if [m for m in received if m in set(expected)] != [m for m in expected if counts[m]]:
            out_of_order += 1
    return {"lost": lost, "duplicated": duplicated, "out_of_order": out_of_order}


def _report(
    args: argparse.Namespace,
    latencies: list[float],
    posts: list[float],
    elapsed: float,
    cpu: tuple[float, float],
    memory: float,
    checks: dict[str, int],
) -> None:
    milliseconds = [value * 1000 for value in latencies]
    figures: dict[str, Any] = {
        "backend": args.backend,
        "servers": args.servers,
        "workers": args.workers,
        "subscribers": args.subscribers,
        "conversations": args.conversations,
        "posts": args.posts,
        "posters": args.posters,
        "deliveries": len(milliseconds),
        **checks,
        "p50_ms": round(_percentile(milliseconds, 0.50), 1),
        "p99_ms": round(_percentile(milliseconds, 0.99), 1),
        "max_ms": round(max(milliseconds), 1),
        "mean_ms": round(statistics.fmean(milliseconds), 1),
        "deliveries_per_second": round(len(milliseconds) / elapsed),
        "post_response_p50_ms": round(_percentile(posts, 0.50) * 1000, 1),
        "server_cpu_us_per_delivery": round(cpu[0] / len(milliseconds) * 1e6, 1),
        "client_cpu_us_per_delivery": round(cpu[1] / len(milliseconds) * 1e6, 1),
        "rss_kib_per_idle_subscription": round(memory / 1024, 1),
    }
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


async def _main(args: argparse.Namespace) -> None:
    database_url = await create_database("bench_live_feed")
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        environment = {**backend_environment(args.backend)}
        environment["MAX_SUBSCRIPTIONS_PER_CONNECTION"] = str(args.per_connection)
        environment["WORKERS"] = str(args.workers)
        environment.update(item.split("=", 1) for item in args.env)
        directory = Path(f"/tmp/bench-live-feed-{os.getpid()}")
        await asyncio.to_thread(directory.mkdir, exist_ok=True)
        with servers(database_url, directory, args.servers, **environment) as running:
            await _measure(running, args, database_url)
    finally:
        await drop_database(database_url)


def main(argv: list[str] | None = None) -> int:
    uvloop.run(_main(_arguments(argv)))  # the client shares the machine: keep it lean
    return 0


if __name__ == "__main__":
    sys.exit(main())
