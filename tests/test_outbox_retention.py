"""Outbox retention keeps the newest `keep` events and those younger than the age limit,
and prunes a prefix of positions below a horizon that never moves back (a resume from
below it is refused with CURSOR_EXPIRED). Generated outboxes are pruned and compared with
a plain model of the rule, on a database of their own (pruning is global)."""

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api.db.outbox import OutboxReader
from tests.databases import migrated_database

AGES = [0, 30, 300, 3_000, 30_000]
"""Event ages in seconds, far apart, so the run's own seconds never cross a limit."""
LIMITS = [10, 100, 1_000, 10_000, 100_000]


@pytest.fixture(scope="module")
async def outbox_url() -> AsyncIterator[str]:
    async with migrated_database("retention") as url:
        yield url


@pytest.fixture(scope="module")
async def reader(outbox_url: str) -> AsyncIterator[OutboxReader]:
    reader = OutboxReader(outbox_url, connect_timeout=5)
    yield reader
    await reader.close()


def expected_horizon(events: list[tuple[int, int]], keep: int, max_age: int) -> int | None:
    """The position retention prunes through: beyond the newest `keep`, and before the
    first event (by position) younger than `max_age`. None: nothing to prune."""
    if not events:
        return None
    newest = events[-1][0]
    young = [position for position, age in events if age < max_age]
    horizon = max(newest - keep, young[0] - 1 if young else newest)
    return horizon if horizon > 0 else None


def _outbox(drawn: list[tuple[int, int]], in_age_order: bool) -> list[tuple[int, int]]:
    """(position, age) pairs: positions increase with gaps (rolled-back transactions);
    ages fall with them, or come in any order (clocks of concurrent writers)."""
    ages = [age for _, age in drawn]
    if in_age_order:
        ages.sort(reverse=True)
    positions = list(itertools.accumulate(gap for gap, _ in drawn))
    return list(zip(positions, ages, strict=True))


outboxes = st.builds(
    _outbox,
    st.lists(st.tuples(st.integers(1, 5), st.sampled_from(AGES)), max_size=30),
    st.booleans(),
)


async def _reset(connection: Any, events: list[tuple[int, int]], previous: int) -> None:
    await connection.execute("DELETE FROM message_events")
    await connection.execute(
        "UPDATE message_event_horizon SET pruned_through = $1 WHERE id = 1", previous
    )
    conversation, org = uuid.uuid4(), uuid.uuid4()
    await connection.executemany(
        "INSERT INTO message_events (position, conversation_id, org_id, kind, message_id,"
        " is_internal, created_at) VALUES ($1, $2, $3, 'POSTED', $4, false, now() - $5::interval)",
        [
            (position, conversation, org, uuid.uuid4(), timedelta(seconds=age))
            for position, age in events
        ],
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    events=outboxes,
    keep=st.integers(0, 40),
    max_age=st.sampled_from(LIMITS),
    previous=st.integers(0, 60),
)
async def test_retention_prunes_what_the_rule_says_and_the_horizon_never_moves_back(
    outbox_url: str,
    reader: OutboxReader,
    events: list[tuple[int, int]],
    keep: int,
    max_age: int,
    previous: int,
) -> None:
    connection = await asyncpg.connect(outbox_url)
    try:
        await _reset(connection, events, previous)
        pruned = await reader.prune(keep=keep, max_age_seconds=max_age)
        left = [
            row[0]
            for row in await connection.fetch(
                "SELECT position FROM message_events ORDER BY position"
            )
        ]
    finally:
        await connection.close()
    horizon = expected_horizon(events, keep, max_age)
    through = horizon if horizon is not None else 0
    assert left == [position for position, _ in events if position > through]
    assert pruned == len(events) - len(left)
    assert await reader.horizon() == max(previous, through)
