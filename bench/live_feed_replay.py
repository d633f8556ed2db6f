"""Live feed replay: a client that resumes with `after:` and has missed `--events` events.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.live_feed_replay [--events 1000] [--rounds 7]

Creates a scratch database, starts `engagement-api serve` (one process), writes
`--events` messages of one conversation through `postMessage` (each with its outbox
event), then, `--rounds` times, subscribes as the engagement's CLIENT with `after` set to
the cursor of the event before them and times from sending `subscribe` to reading the
last replayed event (the client reads the frames straight off its socket). Prints the
median and the worst round and the server's CPU time per replay (median), and checks
that every round received the events in commit order, each once.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson
import uvloop

from bench.procstat import CpuWindow
from engagement_api.db import migrate
from engagement_api.db.engine import create_engine
from tests.conftest import GraphQLClient, start_server, stop_server
from tests.databases import create_database, drop_database
from tests.factories import World
from tests.live_feed import post, thread
from tests.ws_client import GraphQLWebSocket, wait_until_subscribed

FEED = """subscription Feed($id: ID!, $after: String) {
  messageEvents(conversationId: $id, after: $after) {
    kind messageId cursor message { id content sender { id } }
  }
}"""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.live_feed_replay")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--writers", type=int, default=8)
    return parser.parse_args(argv)


async def _read(ws: GraphQLWebSocket, operation: str, count: int) -> list[str]:
    """The message ids of the next `count` events, read straight off the socket (the
    client shares the machine: it does the least it can per frame)."""
    received: list[str] = []
    async with asyncio.timeout(60):
        while len(received) < count:
            message = orjson.loads(await ws.connection.recv())
            if message.get("type") == "ping":
                await ws.send({"type": "pong"})
                continue
            if message.get("type") != "next" or message.get("id") != operation:
                raise SystemExit(f"unexpected message: {message}")
            received.append(message["payload"]["data"]["messageEvents"]["messageId"])
    return received


async def _measure(
    database_url: str, graphql_url: str, base_url: str, pid: int, args: argparse.Namespace
) -> None:
    engine = create_engine(database_url)
    feed = await thread(World(engine))
    await engine.dispose()
    async with httpx.AsyncClient(timeout=60) as http:
        gql = GraphQLClient(http, graphql_url)
        async with GraphQLWebSocket.open(graphql_url, token=feed.client.token) as ws:
            operation = await ws.subscribe(FEED, {"id": feed.conversation.gid, "after": None})
            await wait_until_subscribed(base_url, 1)
            await post(gql, feed.staff, feed.conversation, "anchor")
            cursor = (await ws.event(operation))["cursor"]
        per_writer = args.events // args.writers

        async def writer(index: int) -> None:
            for n in range(per_writer):
                await post(gql, feed.staff, feed.conversation, f"m{index}.{n}")

        await asyncio.gather(*(writer(i) for i in range(args.writers)))
        # The commit order, which the replay must follow (concurrent writers).
        async with GraphQLWebSocket.open(graphql_url, token=feed.client.token) as ws:
            operation = await ws.subscribe(FEED, {"id": feed.conversation.gid, "after": cursor})
            written = [
                (await ws.event(operation))["messageId"] for _ in range(per_writer * args.writers)
            ]
    seconds: list[float] = []
    cpu: list[float] = []
    for _ in range(args.rounds):
        async with GraphQLWebSocket.open(graphql_url, token=feed.client.token, reader=False) as ws:
            window = CpuWindow.start([pid])
            started = time.perf_counter()
            operation = await ws.subscribe(FEED, {"id": feed.conversation.gid, "after": cursor})
            received = await _read(ws, operation, len(written))
            seconds.append(time.perf_counter() - started)
            cpu.append(window.stop([pid]))
        if received != written:
            raise SystemExit("a replay lost, repeated or reordered events")
    figures = {
        "events": len(written),
        "rounds": args.rounds,
        "replay_median_ms": round(statistics.median(seconds) * 1000, 1),
        "replay_worst_ms": round(max(seconds) * 1000, 1),
        "events_per_second": round(len(written) / statistics.median(seconds)),
        "server_cpu_ms_per_replay": round(statistics.median(cpu) * 1000, 1),
    }
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


async def _main(args: argparse.Namespace) -> None:
    database_url = await create_database("bench_live_feed_replay")
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        log = Path(f"/tmp/bench-live-feed-replay-{os.getpid()}.log")
        server = await asyncio.to_thread(start_server, database_url, str(log))
        try:
            await _measure(database_url, server.graphql_url, server.url, server.process.pid, args)
        finally:
            stop_server(server)
    finally:
        await drop_database(database_url)


def main(argv: list[str] | None = None) -> int:
    uvloop.run(_main(_arguments(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
