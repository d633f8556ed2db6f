"""The benchmark's data and cases: seed once, then look up tokens, ids and cursors."""

import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from bench import floor_sql, queries
from engagement_api.auth import mint_token
from engagement_api.cli.seed import DEMO_CLIENT_EMAIL, DEMO_STAFF_EMAIL
from engagement_api.db import writes
from engagement_api.db.prepared import PreparedStatement
from engagement_api.resolvers.cursors import encode_cursor
from engagement_api.schema.ids import to_global_id
from engagement_api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCALE = 10
PAGE = 30
"""Messages per thread page (`queries.THREAD_*`)."""
DEEP_POSITION = 50_000
"""The deep page starts after this many messages of the long thread (its middle at scale
10); a smaller seed's thread is entered at its middle."""


@dataclass(frozen=True)
class Case:
    """One benchmarked request: a GraphQL operation and the floor statement it matches."""

    name: str
    document: str
    variables: dict[str, Any]
    token: str
    floor_sql: str | None = None
    floor_args: tuple[Any, ...] = field(default_factory=tuple)

    def body(self) -> dict[str, Any]:
        return {"query": self.document, "variables": self.variables}


def seed(database_url: str) -> None:
    """`engagement-api seed --scale 10` (idempotent), then VACUUM ANALYZE for fresh stats."""
    command = [sys.executable, "-m", "engagement_api.cli.main", "seed", "--scale", str(SCALE)]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    subprocess.run(command, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["psql", database_url, "-qc", "VACUUM ANALYZE"], check=True)


@dataclass(frozen=True)
class Fixtures:
    org_id: uuid.UUID
    staff_id: uuid.UUID
    client_id: uuid.UUID
    thread_id: uuid.UUID
    older_key: tuple[Any, ...]
    deep_key: tuple[Any, ...]
    engagement_id: uuid.UUID


async def load_fixtures(database_url: str) -> Fixtures:
    connection = await asyncpg.connect(database_url)
    try:
        staff = await connection.fetchrow(
            "SELECT id, org_id FROM users WHERE email = $1 ORDER BY created_at LIMIT 1",
            DEMO_STAFF_EMAIL,
        )
        client_id = await connection.fetchval(
            "SELECT id FROM users WHERE email = $1 AND org_id = $2", DEMO_CLIENT_EMAIL, staff[1]
        )
        thread_id = await connection.fetchval(
            "SELECT conversation_id FROM conversation_messages WHERE org_id = $1"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            staff[1],
        )
        oldest_of_newest_page = await connection.fetchrow(
            "SELECT created_at, id FROM conversation_messages"
            " WHERE conversation_id = $1 AND deleted_at IS NULL"
            " ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            thread_id,
            PAGE - 1,
        )
        visible = await connection.fetchval(
            "SELECT count(*) FROM conversation_messages"
            " WHERE conversation_id = $1 AND deleted_at IS NULL",
            thread_id,
        )
        deep = await connection.fetchrow(
            "SELECT created_at, id FROM conversation_messages"
            " WHERE conversation_id = $1 AND deleted_at IS NULL"
            " ORDER BY created_at, id OFFSET $2 LIMIT 1",
            thread_id,
            min(DEEP_POSITION, visible // 2),
        )
        engagement_id = await connection.fetchval(
            "SELECT id FROM engagements WHERE org_id = $1 AND id <> ("
            "  SELECT engagement_id FROM conversations WHERE id = $2)"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            staff[1],
            thread_id,
        )
    finally:
        await connection.close()
    return Fixtures(
        org_id=staff[1],
        staff_id=staff[0],
        client_id=client_id,
        thread_id=thread_id,
        older_key=(oldest_of_newest_page[0], uuid.UUID(str(oldest_of_newest_page[1]))),
        deep_key=(deep[0], uuid.UUID(str(deep[1]))),
        engagement_id=engagement_id,
    )


async def floor_data(database_url: str, case: Case) -> Any:
    """The `data` member of the JSON document that `case`'s floor statement builds."""
    connection = await asyncpg.connect(database_url)
    try:
        document = await connection.fetchval(case.floor_sql, *case.floor_args)
    finally:
        await connection.close()
    return orjson.loads(str(document))["data"]


def chosen(cases: list[Case], only: list[str] | None) -> list[Case]:
    """The cases whose name contains one of `only` (`--only`), or all of them."""
    return [case for case in cases if not only or any(part in case.name for part in only)]


POSTED_CONTENT = "benchmark message"


def mutation_cases(fixtures: Fixtures, settings: Settings) -> list[Case]:
    """Writes, counted by `bench.instructions` only (each request adds a message to the
    thread; `remove_posted` takes them away again, so `bench.run`'s read cases and floor
    keep seeing the seeded thread)."""
    staff = mint_token(fixtures.staff_id, settings)
    thread_gid = to_global_id("Conversation", fixtures.thread_id)
    post = {"conversationId": thread_gid, "content": POSTED_CONTENT}
    return [Case("M1 post message", queries.POST_MESSAGE, {"input": post}, staff)]


async def remove_posted(database_url: str) -> int:
    """Delete the messages the write cases posted and their outbox events, and move their
    conversations' activity times back to the messages left: how many were deleted."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            posted = await connection.fetch(
                "DELETE FROM conversation_messages WHERE content = $1"
                " RETURNING id, conversation_id",
                POSTED_CONTENT,
            )
            await connection.execute(
                "DELETE FROM message_events WHERE message_id = ANY($1::uuid[])",
                [row["id"] for row in posted],
            )
            for conversation_id in {row["conversation_id"] for row in posted}:
                recompute = PreparedStatement(
                    writes.recompute_message_activity(conversation_id)[0],
                    asyncpg_dialect(),  # type: ignore[no-untyped-call]
                    once=True,
                )
                await connection.execute(recompute.sql, *recompute.arguments(None))
    finally:
        await connection.close()
    return len(posted)


def step_cases(fixtures: Fixtures, settings: Settings) -> list[Case]:
    """Q2 built up a part at a time (`queries.THREAD_STEPS`), then Q2 itself as the last
    step: where a thread page's cost goes, counted by `bench.instructions` only."""
    staff = mint_token(fixtures.staff_id, settings)
    thread = {"id": to_global_id("Conversation", fixtures.thread_id)}
    steps = [
        Case(f"Q2 step {name}", document, thread if "$id" in document else {}, staff)
        for name, document in queries.THREAD_STEPS
    ]
    last = Case("Q2 step 7 with cursors and page info", queries.THREAD_NEWEST, thread, staff)
    return [*steps, last]


def build_cases(fixtures: Fixtures, settings: Settings) -> list[Case]:
    staff = mint_token(fixtures.staff_id, settings)
    client = mint_token(fixtures.client_id, settings)
    org, thread = fixtures.org_id, fixtures.thread_id
    thread_gid = to_global_id("Conversation", thread)
    before = encode_cursor("messages", fixtures.older_key)
    after = encode_cursor("messages", fixtures.deep_key)
    return [
        Case(
            "Q1 dashboard STAFF",
            queries.DASHBOARD,
            {},
            staff,
            floor_sql.dashboard(client=False),
            (org, fixtures.staff_id),
        ),
        Case(
            "Q1 dashboard CLIENT",
            queries.DASHBOARD,
            {},
            client,
            floor_sql.dashboard(client=True),
            (org, fixtures.client_id),
        ),
        Case(
            "Q2 thread newest",
            queries.THREAD_NEWEST,
            {"id": thread_gid},
            staff,
            floor_sql.THREAD_NEWEST,
            (org, thread),
        ),
        Case(
            "Q2 thread older",
            queries.THREAD_OLDER,
            {"id": thread_gid, "before": before},
            staff,
            floor_sql.THREAD_OLDER,
            (org, thread, *fixtures.older_key),
        ),
        Case(
            "Q2 thread deep",
            queries.THREAD_DEEP,
            {"id": thread_gid, "after": after},
            staff,
            floor_sql.THREAD_DEEP,
            (org, thread, *fixtures.deep_key),
        ),
        Case(
            "Q3 engagement detail",
            queries.DETAIL,
            {"id": to_global_id("Engagement", fixtures.engagement_id)},
            staff,
        ),
    ]
