"""Live feed delivery latency: post to receive, with many subscribers on one process.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.subscription_latency [--subscribers 1000] [--posts 30]
        [--conversations 1] [--backend postgres|redis]

Creates a scratch database, starts `engagement-api serve` (one process), opens the
subscriptions over graphql-transport-ws (`--per-connection` per WebSocket, within the
server's cap), each connection as its own viewer (the engagement's client, then staff
members: `messageEvents` resolves every event with each viewer's permissions), then posts messages
through `postMessage` one at a time (each after every subscriber received the previous
one) and prints the delivery latency: from just before the HTTP post is sent to the
moment a subscriber's client reads the event, over every (post, subscriber) pair.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson

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


async def _world(
    database_url: str, conversations: int, viewers: int
) -> tuple[list[Made], list[Made]]:
    """(viewers: the engagement's client, then staff members; the conversations)."""
    engine = create_engine(database_url)
    try:
        world = World(engine)
        org = await world.organization("Bench")
        client = await world.user(org, Role.CLIENT)
        staff = [await world.user(org, Role.STAFF) for _ in range(viewers - 1)]
        engagement = await world.engagement(org, client)
        threads = [await world.conversation(engagement) for _ in range(conversations)]
        return [client, *staff], threads
    finally:
        await engine.dispose()


async def _subscribe(
    stack: AsyncExitStack,
    server: RunningServer,
    args: argparse.Namespace,
    viewers: list[Made],
    threads: list[Made],
    stamps: dict[str, list[float]],
) -> list[asyncio.Task[None]]:
    readers = []
    for start in range(0, args.subscribers, args.per_connection):
        viewer = viewers[(start // args.per_connection) % len(viewers)]
        ws = await stack.enter_async_context(
            GraphQLWebSocket.open(server.graphql_url, token=viewer.token, reader=False)
        )
        for index in range(start, min(start + args.per_connection, args.subscribers)):
            await ws.subscribe(FEED, {"id": threads[index % len(threads)].gid})
        readers.append(asyncio.create_task(Receiver(ws, stamps).run()))
    await wait_until_subscribed(server.url, args.subscribers)
    return readers


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _measure(server: RunningServer, args: argparse.Namespace, database_url: str) -> None:
    connections = -(-args.subscribers // args.per_connection)
    viewers, threads = await _world(database_url, args.conversations, connections)
    author = viewers[1]
    per_thread = args.subscribers // len(threads)
    stamps: dict[str, list[float]] = {}
    latencies: list[float] = []
    async with AsyncExitStack() as stack:
        readers = await _subscribe(stack, server, args, viewers, threads, stamps)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        gql = GraphQLClient(http, server.graphql_url)
        started = time.perf_counter()
        for number in range(args.posts):
            sent = time.perf_counter()
            message_id = await post(gql, author, threads[number % len(threads)], f"m{number}")
            async with asyncio.timeout(60):
                while len(stamps.get(message_id, ())) < per_thread:  # noqa: ASYNC110
                    await asyncio.sleep(0.001)
            latencies.extend(stamp - sent for stamp in stamps[message_id])
        elapsed = time.perf_counter() - started
        for reader in readers:
            reader.cancel()
    _report(args, latencies, elapsed)


def _report(args: argparse.Namespace, latencies: list[float], elapsed: float) -> None:
    milliseconds = [value * 1000 for value in latencies]
    figures: dict[str, Any] = {
        "backend": args.backend,
        "subscribers": args.subscribers,
        "conversations": args.conversations,
        "posts": args.posts,
        "deliveries": len(milliseconds),
        "p50_ms": round(_percentile(milliseconds, 0.50), 1),
        "p99_ms": round(_percentile(milliseconds, 0.99), 1),
        "max_ms": round(max(milliseconds), 1),
        "mean_ms": round(statistics.fmean(milliseconds), 1),
        "deliveries_per_second": round(len(milliseconds) / elapsed),
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
    asyncio.run(_main(_arguments(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
