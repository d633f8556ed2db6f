"""The live feed's transactional outbox (`message_events`).

Writing: every message change inserts its event row in the writing transaction, and
NOTIFYs `<conversation>:<position>` from inside it (PostgreSQL delivers a notification only
when, and if, its transaction commits). The conversation's row is locked first, so the
positions of one conversation are taken in commit order: a reader that has seen position
P of a conversation never later finds a smaller one committed.

Reading: `OutboxReader`, one small pool per process outside the request pool, its
connections in the role `engagement_outbox` (migration 0006): the events after a position,
the newest position of conversations, the retention horizon, and pruning.
"""

import logging
import os
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy import TextClause, text

from engagement_api.db.rows import StoredMessageRow
from engagement_api.db.tenancy import OUTBOX_ROLE
from engagement_api.events import Announcement, MessageEventKind, OutboxEvent

logger = logging.getLogger(__name__)

READER_APPLICATION_NAME = f"engagement-api-outbox {os.getpid()}"
PRUNE_LOCK = 0x6F7574626F78
"""Advisory lock key: one process prunes at a time."""
PRUNE_BATCH = 5_000

RECORD_ONE = text(
    """
    WITH locked AS (
      SELECT id FROM conversations WHERE id = :conversation_id FOR NO KEY UPDATE
    ), event AS (
      INSERT INTO message_events (conversation_id, org_id, kind, message_id, is_internal)
      SELECT locked.id, :org_id, :kind, :message_id, :is_internal FROM locked
      RETURNING position, conversation_id
    )
    SELECT event.conversation_id, event.position,
           pg_notify(:channel, event.conversation_id::text || ':' || event.position::text)
    FROM event
    """
)

LOCK_CASCADE = text(
    "SELECT id FROM conversations WHERE engagement_id = :engagement_id ORDER BY id FOR UPDATE"
)
"""Run before `RECORD_CASCADE`, as its own statement: a statement reads the snapshot it
began with, so one that waited here for a post to commit would not see that message."""

RECORD_CASCADE = text(
    """
    WITH event AS (
      INSERT INTO message_events (conversation_id, org_id, kind, message_id, is_internal)
      SELECT m.conversation_id, m.org_id, 'DELETED', m.id, m.is_internal
      FROM conversation_messages m JOIN conversations c ON m.conversation_id = c.id
      WHERE c.engagement_id = :engagement_id AND m.deleted_at IS NULL
      ORDER BY m.conversation_id, m.created_at, m.id
      RETURNING position, conversation_id
    )
    SELECT event.conversation_id, max(event.position),
           pg_notify(:channel, event.conversation_id::text || ':' || max(event.position)::text)
    FROM event GROUP BY event.conversation_id
    """
)
"""The DELETED events of every live message an engagement's hard delete removes (its
conversations locked first, `LOCK_CASCADE`)."""


def record_one(
    kind: MessageEventKind, message: StoredMessageRow, channel: str
) -> tuple[TextClause, dict[str, Any]]:
    """The statement (and its parameters) recording one change of `message`."""
    return RECORD_ONE, {
        "conversation_id": message.conversation_id,
        "org_id": message.org_id,
        "kind": kind.value,
        "message_id": message.id,
        "is_internal": message.is_internal,
        "channel": channel,
    }


Statement = tuple[TextClause, dict[str, Any]]


def record_cascade(engagement_id: uuid.UUID, channel: str) -> tuple[Statement, Statement]:
    """(lock, record): the two statements, in turn, recording the DELETED events of an
    engagement's hard delete; the record's rows are its announcements."""
    return (
        (LOCK_CASCADE, {"engagement_id": engagement_id}),
        (RECORD_CASCADE, {"engagement_id": engagement_id, "channel": channel}),
    )


def announcements(rows: Sequence[Any]) -> list[Announcement]:
    return [Announcement(row[0], int(row[1])) for row in rows]


EVENTS_AFTER = """
SELECT position, conversation_id, org_id, kind, message_id, is_internal
FROM message_events WHERE conversation_id = $1 AND position > $2
ORDER BY position LIMIT $3
"""
NEWEST = """
SELECT c.id, (SELECT max(position) FROM message_events e WHERE e.conversation_id = c.id)
FROM unnest($1::uuid[]) AS c(id)
"""
HORIZON = "SELECT pruned_through FROM message_event_horizon WHERE id = 1"
CURSOR_KEY = "SELECT key FROM message_event_cursor_key WHERE id = 1"
PRUNE_HORIZON = """
SELECT greatest(
  (SELECT max(position) FROM message_events) - $1,
  coalesce(
    (SELECT position - 1 FROM message_events WHERE created_at >= now() - $2::interval
     ORDER BY position LIMIT 1),
    (SELECT max(position) FROM message_events)
  )
)
"""
MOVE_HORIZON = (
    "UPDATE message_event_horizon SET pruned_through = greatest(pruned_through, $1) WHERE id = 1"
)
PRUNE_SOME = """
WITH gone AS (
  DELETE FROM message_events WHERE position IN (
    SELECT position FROM message_events WHERE position <= $1 ORDER BY position LIMIT $2)
  RETURNING conversation_id, org_id, position, is_internal
), marked AS (
  INSERT INTO message_event_pruned AS p
    (conversation_id, org_id, pruned_through, public_pruned_through)
  SELECT conversation_id, (array_agg(org_id))[1], max(position),
         coalesce(max(position) FILTER (WHERE NOT is_internal), 0)
  FROM gone GROUP BY conversation_id
  ON CONFLICT (conversation_id) DO UPDATE SET
    pruned_through = greatest(p.pruned_through, EXCLUDED.pruned_through),
    public_pruned_through = greatest(p.public_pruned_through, EXCLUDED.public_pruned_through)
)
SELECT count(*) FROM gone
"""
"""A batch of the rows retention drops, and the per-conversation markers of what went,
in one transaction: a reader sees either the rows or their markers."""
EXPIRED = """
SELECT $2 < h.markers_from
  OR $2 < coalesce((
    SELECT CASE WHEN $3 THEN p.public_pruned_through ELSE p.pruned_through END
    FROM message_event_pruned p WHERE p.conversation_id = $1), 0)
  OR ($2 < h.pruned_through AND EXISTS (
    SELECT 1 FROM message_events e
    WHERE e.conversation_id = $1 AND e.position > $2 AND e.position <= h.pruned_through
      AND NOT ($3 AND e.is_internal)))
FROM message_event_horizon h WHERE h.id = 1
"""
"""Whether a resume from position $2 of conversation $1 has lost events its viewer would
be shown ($3: public ones only): pruned already, or at or below the horizon and about to
be (the horizon moves before the rows go)."""


class OutboxReader:
    """Reads committed outbox rows for this process (bounded pool, `OUTBOX_ROLE`)."""

    def __init__(self, dsn: str, *, connect_timeout: float, max_connections: int = 3) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._cursor_key: bytes | None = None

    async def _acquire_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=0,
                max_size=self.max_connections,
                timeout=self.connect_timeout,
                statement_cache_size=0,
                max_inactive_connection_lifetime=60,
                server_settings={"application_name": READER_APPLICATION_NAME, "role": OUTBOX_ROLE},
            )
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def events_after(
        self, conversation_id: uuid.UUID, position: int, limit: int
    ) -> list[OutboxEvent]:
        pool = await self._acquire_pool()
        rows = await pool.fetch(EVENTS_AFTER, conversation_id, position, limit)
        return [
            OutboxEvent(
                position=row[0],
                conversation_id=row[1],
                org_id=row[2],
                kind=MessageEventKind(row[3]),
                message_id=row[4],
                is_internal=row[5],
            )
            for row in rows
        ]

    async def newest(self, conversation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Each conversation's newest position (0 when it has no event)."""
        pool = await self._acquire_pool()
        rows = await pool.fetch(NEWEST, list(conversation_ids))
        return {row[0]: int(row[1] or 0) for row in rows}

    async def cursor_key(self) -> bytes:
        """The deployment's key for event cursors (read once; it never changes)."""
        if self._cursor_key is None:
            pool = await self._acquire_pool()
            key = await pool.fetchval(CURSOR_KEY)
            if key is None:
                raise RuntimeError(
                    "message_event_cursor_key has no row: the live feed needs the key that"
                    " migration 0007 writes (downgrade to 0006, then migrate again)"
                )
            self._cursor_key = bytes(key)
        return self._cursor_key

    async def horizon(self) -> int:
        """The highest pruned position, of any conversation."""
        pool = await self._acquire_pool()
        return int(await pool.fetchval(HORIZON))

    async def expired(self, conversation_id: uuid.UUID, position: int, *, public: bool) -> bool:
        """Whether events after `position` of the conversation that a viewer is shown
        (`public`: a CLIENT, its public ones) were, or are about to be, pruned."""
        pool = await self._acquire_pool()
        return bool(await pool.fetchval(EXPIRED, conversation_id, position, public))

    async def prune(self, *, keep: int, max_age_seconds: float) -> int:
        """Drop events beyond retention (older than `max_age_seconds`, or beyond the newest
        `keep`): the horizon moves first (resumes from below it are refused from then on),
        then rows go in small batches, each its own transaction (writers never wait)."""
        pool = await self._acquire_pool()
        async with pool.acquire() as connection:
            async with connection.transaction():
                if not await connection.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1)", PRUNE_LOCK
                ):
                    return 0
                horizon = await connection.fetchval(
                    PRUNE_HORIZON, keep, timedelta(seconds=max_age_seconds)
                )
                if horizon is None or horizon <= 0:
                    return 0
                await connection.execute(MOVE_HORIZON, horizon)
            pruned = 0
            while True:
                deleted = int(await connection.fetchval(PRUNE_SOME, horizon, PRUNE_BATCH))
                pruned += deleted
                if deleted < PRUNE_BATCH:
                    return pruned
