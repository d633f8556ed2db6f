"""Live feed delivery latency: post to receive, with many subscribers on one process.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.subscription_latency [--subscribers 1000] [--posts 30]
        [--conversations 1] [--posters 1] [--backend postgres|redis]

Creates a scratch database, starts `engagement-api serve` (one process), opens the
subscriptions over graphql-transport-ws, each WebSocket as its own viewer (`messageEvents`
resolves every event with each viewer's permissions): each conversation's client once,
the rest staff members with `--per-connection` subscriptions each (the server's cap),
round-robin over the conversations. Then `--posters` clients post through `postMessage`,
each waiting until every subscriber of the conversation has the event before posting
again, and the delivery latency is printed: from just before the HTTP post is sent to the
moment a subscriber's client reads the event, over every (post, subscriber) pair.

With one conversation every post reaches all subscribers (the worst case); with many,
each post reaches a few while the posters keep the process busy (a live deployment).
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop

from engagement_api.db import migrate
from engagement_api.db.engine import create_engine
from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, start_server, stop_server
from tests.databases import create_database, drop_database
from tests.factories import Made, World
from tests.live_feed import backend_environment, post
from tests.ws_client import GraphQLWebSocket, wait_until_subscribed

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
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    return parser.parse_args(argv)


class Receiver:
    """Reads one WebSocket and stamps every event with the time it was read."""

    def __init__(self, ws: GraphQLWebSocket, stamps: dict[str, list[float]]) -> None:
        self.ws = ws
        self.stamps = stamps

    async def run(self) -> None:
        async for raw in self.ws.connection:
            now = time.perf_counter()
            message = orjson.loads(raw)
            if message.get("type") == "ping":
                await self.ws.send({"type": "pong"})
            elif message.get("type") == "next":
                event = message["payload"]["data"]["messageEvents"]
                self.stamps.setdefault(event["messageId"], []).append(now)
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

    def expected(self) -> Counter[str]:
        counts: Counter[str] = Counter(conversation.gid for _, conversation in self.clients)
        for _, threads in self.staff:
            counts.update(thread.gid for thread in threads)
        return counts


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


async def _subscribe(
    stack: AsyncExitStack, server: RunningServer, plan: Plan, stamps: dict[str, list[float]]
) -> list[asyncio.Task[None]]:
    connections = [(client, [thread]) for client, thread in plan.clients] + plan.staff
    readers = []
    for viewer, threads in connections:
        ws = await stack.enter_async_context(
            GraphQLWebSocket.open(server.graphql_url, token=viewer.token, reader=False)
        )
        for thread in threads:
            await ws.subscribe(FEED, {"id": thread.gid})
        readers.append(asyncio.create_task(Receiver(ws, stamps).run()))
    await wait_until_subscribed(server.url, sum(plan.expected().values()))
    return readers


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _poster(
    gql: GraphQLClient,
    plan: Plan,
    numbers: Iterator[int],
    stamps: dict[str, list[float]],
    latencies: list[float],
    posts: list[float],
) -> None:
    """Post, wait until every subscriber of the conversation has the event, post again."""
    author = plan.staff[0][0]
    expected = plan.expected()
    for number in numbers:
        thread = plan.conversations[number % len(plan.conversations)]
        sent = time.perf_counter()
        message_id = await post(gql, author, thread, f"m{number}")
        posts.append(time.perf_counter() - sent)
        async with asyncio.timeout(120):
            while len(stamps.get(message_id, ())) < expected[thread.gid]:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        latencies.extend(stamp - sent for stamp in stamps[message_id])


async def _measure(server: RunningServer, args: argparse.Namespace, database_url: str) -> None:
    plan = await _plan(database_url, args)
    stamps: dict[str, list[float]] = {}
    latencies: list[float] = []
    posts: list[float] = []
    async with AsyncExitStack() as stack:
        readers = await _subscribe(stack, server, plan, stamps)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        gql = GraphQLClient(http, server.graphql_url)
        numbers = iter(range(args.posts))
        started = time.perf_counter()
        await asyncio.gather(
            *(_poster(gql, plan, numbers, stamps, latencies, posts) for _ in range(args.posters))
        )
        elapsed = time.perf_counter() - started
        for reader in readers:
            reader.cancel()
    _report(args, latencies, posts, elapsed)


def _report(
    args: argparse.Namespace, latencies: list[float], posts: list[float], elapsed: float
) -> None:
    milliseconds = [value * 1000 for value in latencies]
    figures: dict[str, Any] = {
        "backend": args.backend,
        "subscribers": args.subscribers,
        "conversations": args.conversations,
        "posts": args.posts,
        "posters": args.posters,
        "deliveries": len(milliseconds),
        "p50_ms": round(_percentile(milliseconds, 0.50), 1),
        "p99_ms": round(_percentile(milliseconds, 0.99), 1),
        "max_ms": round(max(milliseconds), 1),
        "mean_ms": round(statistics.fmean(milliseconds), 1),
        "deliveries_per_second": round(len(milliseconds) / elapsed),
        "post_response_p50_ms": round(_percentile(posts, 0.50) * 1000, 1),
    }
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


async def _main(args: argparse.Namespace) -> None:
    database_url = await create_database("bench_live_feed")
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        environment = {**backend_environment(args.backend)}
        environment["MAX_SUBSCRIPTIONS_PER_CONNECTION"] = str(args.per_connection)
        environment.update(item.split("=", 1) for item in args.env)
        log = Path(f"/tmp/bench-live-feed-{os.getpid()}.log")
        server = await asyncio.to_thread(start_server, database_url, str(log), **environment)
        try:
            await _measure(server, args, database_url)
        finally:
            stop_server(server)
    finally:
        await drop_database(database_url)


def main(argv: list[str] | None = None) -> int:
    uvloop.run(_main(_arguments(argv)))  # the client shares the machine: keep it lean
    return 0


if __name__ == "__main__":
    sys.exit(main())
