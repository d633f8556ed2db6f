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


async def _reset(
    connection: Any,
    events: list[tuple[int, int]],
    previous: int,
    owners: list[tuple[uuid.UUID, bool]] | None = None,
) -> None:
    """The outbox holds `events` only, of one conversation, or each of the conversation and
    internal flag `owners` gives it; nothing pruned before but through `previous`."""
    await connection.execute("DELETE FROM message_events")
    await connection.execute("DELETE FROM message_event_pruned")
    await connection.execute(
        "UPDATE message_event_horizon SET pruned_through = $1, markers_from = 0 WHERE id = 1",
        previous,
    )
    conversation, org = uuid.uuid4(), uuid.uuid4()
    owners = owners or [(conversation, False)] * len(events)
    await connection.executemany(
        "INSERT INTO message_events (position, conversation_id, org_id, kind, message_id,"
        " is_internal, created_at) VALUES ($1, $2, $3, 'POSTED', $4, $5, now() - $6::interval)",
        [
            (position, owner, org, uuid.uuid4(), internal, timedelta(seconds=age))
            for (position, age), (owner, internal) in zip(events, owners, strict=True)
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


CONVERSATIONS = [uuid.uuid4() for _ in range(3)]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    events=outboxes,
    owners=st.lists(st.tuples(st.sampled_from(CONVERSATIONS), st.booleans()), min_size=30),
    keep=st.integers(0, 40),
    max_age=st.sampled_from(LIMITS),
    starts=st.lists(st.integers(0, 160), min_size=1, max_size=6),
)
async def test_a_resume_is_expired_exactly_when_events_its_viewer_is_shown_were_pruned(
    outbox_url: str,
    reader: OutboxReader,
    events: list[tuple[int, int]],
    owners: list[tuple[uuid.UUID, bool]],
    keep: int,
    max_age: int,
    starts: list[int],
) -> None:
    """Per conversation and kind of viewer (STAFF: every event; CLIENT: public ones): a
    resume from a position has lost something iff an event after it that the viewer would
    be shown is gone. Events of other conversations, and internal notes for a CLIENT, do
    not expire it."""
    owners = owners[: len(events)]
    connection = await asyncpg.connect(outbox_url)
    try:
        await _reset(connection, events, 0, owners)
        await reader.prune(keep=keep, max_age_seconds=max_age)
        left = {row[0] for row in await connection.fetch("SELECT position FROM message_events")}
    finally:
        await connection.close()
    gone = [
        (position, owner, internal)
        for (position, _), (owner, internal) in zip(events, owners, strict=True)
        if position not in left
    ]
    for conversation in CONVERSATIONS:
        for public in (False, True):
            for start in starts:
                lost = any(
                    owner == conversation and position > start and not (public and internal)
                    for position, owner, internal in gone
                )
                found = await reader.expired(conversation, start, public=public)
                assert found == lost, (conversation, public, start)
