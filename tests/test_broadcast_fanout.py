"""The process-local fan-out and the wire codec of the live feed.

The relay is driven by announcements that may arrive late, twice, out of order or never;
whatever their order, once the last one (or a sweep) has been handled, every subscriber
has received exactly the conversation's outbox rows after its start, in position order
(compared with a plain reference: the rows themselves). The rows are real outbox rows in
PostgreSQL, read by the real reader; the resolver hands them on unchanged.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api.broadcast import Fanout, FellBehind, Subscriber
from engagement_api.broadcast.codec import decode, encode
from engagement_api.db.outbox import OutboxReader
from engagement_api.events import Announcement, OutboxEvent


async def _as_they_are(
    subscribers: Sequence[Subscriber], events: Sequence[OutboxEvent]
) -> Mapping[Subscriber, list[Any]]:
    return {subscriber: list(events) for subscriber in subscribers}


@contextmanager
def _subscribed(fanout: Fanout, conversation: uuid.UUID, newest: int) -> Iterator[Subscriber]:
    subscriber = fanout.register(conversation, uuid.uuid4(), None, _as_they_are, newest)
    try:
        yield subscriber
    finally:
        fanout.unregister(subscriber)


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[OutboxReader]:
    outbox = OutboxReader(database_url, connect_timeout=5)
    yield outbox
    await outbox.close()


async def _write(url: str, conversation: uuid.UUID, count: int) -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "INSERT INTO message_events (conversation_id, org_id, kind, message_id, is_internal)"
            " SELECT $1, gen_random_uuid(), 'POSTED', gen_random_uuid(), false"
            " FROM generate_series(1, $2) RETURNING position",
            conversation,
            count,
        )
    finally:
        await connection.close()
    return [int(row[0]) for row in rows]


async def _drain(subscriber: Subscriber) -> list[int]:
    received: list[int] = []
    while True:
        try:
            item = await asyncio.wait_for(subscriber.next(), 0.2)
        except TimeoutError:
            return received
        received.append(item.position)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(st.integers(1, 4), min_size=1, max_size=5),
    announced=st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=8),
)
async def test_every_row_arrives_once_and_in_order_whatever_the_announcements(
    reader: OutboxReader,
    database_url: str,
    batches: list[int],
    announced: list[tuple[int, bool]],
) -> None:
    fanout = Fanout(queue_size=100, concurrent_resolutions=2, reader=reader)
    conversation = uuid.uuid4()
    before = await _write(database_url, conversation, 1)
    with _subscribed(fanout, conversation, before[-1]) as sub:
        written: list[int] = []
        for count in batches:
            written += await _write(database_url, conversation, count)
        # Announcements of any written position, any number of times, in any order.
        for index, twice in announced:
            position = written[min(index, len(written) - 1)]
            for _ in range(2 if twice else 1):
                fanout.announce(Announcement(conversation, position))
            await asyncio.sleep(0)
        await fanout.sweep()  # what a lost announcement waits for
        assert await _drain(sub) == written


async def test_announcements_of_other_conversations_deliver_nothing(
    reader: OutboxReader, database_url: str
) -> None:
    fanout = Fanout(queue_size=4, concurrent_resolutions=1, reader=reader)
    followed, other = uuid.uuid4(), uuid.uuid4()
    with _subscribed(fanout, followed, 0) as subscriber:
        (position,) = await _write(database_url, other, 1)
        fanout.announce(Announcement(other, position))
        assert await _drain(subscriber) == []


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(queue_size=st.integers(1, 5), batch=st.integers(1, 40))
async def test_a_subscriber_that_reads_gets_a_batch_larger_than_its_queue_whole(
    reader: OutboxReader, database_url: str, queue_size: int, batch: int
) -> None:
    """One commit's rows (a cascade's DELETED events) arrive as one batch: a subscriber
    that keeps reading gets them all, however many more than its queue holds."""
    fanout = Fanout(queue_size=queue_size, concurrent_resolutions=1, reader=reader)
    conversation = uuid.uuid4()
    with _subscribed(fanout, conversation, 0) as reading:
        positions = await _write(database_url, conversation, batch)
        fanout.announce(Announcement(conversation, positions[-1]))
        assert await _drain(reading) == positions
        assert not reading.closed


async def test_a_subscriber_that_makes_no_room_in_time_is_closed_and_the_others_served(
    reader: OutboxReader, database_url: str
) -> None:
    fanout = Fanout(queue_size=2, concurrent_resolutions=1, reader=reader, behind_seconds=0.3)
    conversation = uuid.uuid4()
    with _subscribed(fanout, conversation, 0) as slow, _subscribed(fanout, conversation, 0) as fast:
        positions = await _write(database_url, conversation, 4)
        fanout.announce(Announcement(conversation, positions[-1]))
        assert await _drain(fast) == positions  # while the slow one still holds its queue
        await asyncio.sleep(0.4)
        assert await slow.next() == FellBehind(queue_size=2)
        assert slow.closed
        later = await _write(database_url, conversation, 3)
        fanout.announce(Announcement(conversation, later[-1]))
        assert await _drain(fast) == later


def test_subscriptions_are_counted_per_viewer_until_unregistered_once() -> None:
    fanout = Fanout(
        queue_size=2, concurrent_resolutions=1, reader=OutboxReader("", connect_timeout=1)
    )
    viewer, conversation = uuid.uuid4(), uuid.uuid4()
    first, second = (fanout.register(conversation, viewer, None, _as_they_are, 0) for _ in range(2))
    assert (fanout.count, fanout.subscriptions_of(viewer)) == (2, 2)
    for _ in range(2):  # a second unregister changes nothing
        fanout.unregister(first)
        assert (fanout.count, fanout.subscriptions_of(viewer)) == (1, 1)
    fanout.unregister(second)
    assert (fanout.count, fanout.started, fanout.subscriptions_of(viewer)) == (0, 2, 0)
    assert fanout.conversations == []


@given(conversation=st.uuids(), position=st.integers(0, 2**63 - 1))
def test_payload_round_trips_and_stays_far_below_the_notify_limit(
    conversation: uuid.UUID, position: int
) -> None:
    announcement = Announcement(conversation, position)
    payload = encode(announcement)
    assert decode(payload) == announcement
    assert decode(payload.encode()) == announcement
    assert len(payload.encode()) < 8000 // 40


@given(payload=st.one_of(st.text(max_size=80), st.binary(max_size=80)))
def test_arbitrary_payloads_decode_to_nothing_or_to_what_they_encode(
    payload: str | bytes,
) -> None:
    announcement = decode(payload)
    if announcement is not None:
        assert decode(encode(announcement)) == announcement


def test_malformed_payloads_decode_to_nothing() -> None:
    assert decode("not an announcement") is None
    assert decode(f"{uuid.uuid4()}:x") is None
    assert decode(b"\xff\xfe") is None
