"""The process-local side of the live feed: which subscriber follows which conversation,
and the relay that turns announcements into deliveries.

An announcement (`<conversation>:<position>`) only says that a conversation has committed
outbox rows up to a position. For each followed conversation the fanout keeps the
position delivered through; one relay task per conversation reads the rows after it from
the outbox (never from the announcement), has them resolved once per audience (the
subscribers' `resolve`, see resolvers/event_audience.py) and puts the results on the
subscribers' bounded queues. Rows are read in position order and a
conversation's positions are committed in order (db/outbox.py), so nothing is skipped and
nothing is delivered twice; a lost announcement only delays a delivery until the next one
or the next sweep.

A batch may hold more events for a subscriber than its queue does (one commit's rows: a
deleted engagement's DELETED events): the relay then waits for the subscriber to make
room, and reads the conversation's next rows only once every subscriber took the batch. A
subscriber that has not taken the whole batch `behind_seconds` after it arrived is closed
(its pending deliveries are dropped and it receives `FellBehind`), so that one slow reader
holds the others of its conversation back that long at most.
"""

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engagement_api.db.outbox import OutboxReader
from engagement_api.events import Announcement, OutboxEvent

logger = logging.getLogger("engagement_api.broadcast")

RELAY_BATCH = 500
"""Outbox rows read and resolved at once for one conversation."""
RETRY_SECONDS = 0.5
BEHIND_SECONDS = 10.0
"""How long a subscriber has to take a batch of events beyond what its queue holds."""


@dataclass(frozen=True, slots=True)
class FellBehind:
    """The subscriber did not keep up; its stream ends here."""

    queue_size: int


Resolver = Callable[
    [Sequence["Subscriber"], Sequence[OutboxEvent]], Awaitable[Mapping["Subscriber", list[Any]]]
]
"""What each subscriber of a batch of events receives, resolved once per audience."""


class Subscriber:
    """One subscription's bounded queue of deliveries."""

    def __init__(
        self,
        conversation_id: uuid.UUID,
        viewer_id: uuid.UUID,
        owner: Any,
        resolve: Resolver,
        queue_size: int,
    ) -> None:
        self.conversation_id = conversation_id
        self.viewer_id = viewer_id
        self.owner = owner
        """The subscription's own state, for `resolve` (its context and viewer)."""
        self.resolve = resolve
        self.queue_size = queue_size
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self.closed = False

    def offer(self, deliveries: Sequence[Any]) -> Sequence[Any]:
        """Enqueue the deliveries that fit now; the rest, which must wait for room."""
        for index, delivery in enumerate(deliveries):
            if self.closed:
                break
            if self._queue.full():
                return deliveries[index:]
            self._queue.put_nowait(delivery)
        return ()

    async def take(self, deliveries: Sequence[Any], deadline: float) -> None:
        """Enqueue `deliveries` in order, waiting for room until `deadline` (the loop's
        time); one still waiting then fell behind: everything pending is dropped, and the
        subscriber closed."""
        loop = asyncio.get_running_loop()
        for delivery in deliveries:
            if self.closed:
                return
            if not self._queue.full():
                self._queue.put_nowait(delivery)
                continue
            try:
                if loop.time() >= deadline:  # no time given, or none left
                    raise TimeoutError
                async with asyncio.timeout_at(deadline):
                    await self._queue.put(delivery)
            except TimeoutError:
                self.close()
                self._queue.put_nowait(FellBehind(self.queue_size))
                return

    def close(self) -> None:
        """No more deliveries: the pending ones are dropped (a relay waiting for room
        goes on at once)."""
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()

    async def next(self) -> Any:
        return await self._queue.get()


@dataclass(eq=False, slots=True)
class _Followed:
    """A conversation with local subscribers."""

    position: int
    """Delivered through (every outbox row up to here was relayed)."""
    announced: int
    subscribers: set[Subscriber] = field(default_factory=set)
    relay: asyncio.Task[None] | None = None


class Fanout:
    """Local subscribers by conversation id, and their relays."""

    def __init__(
        self,
        queue_size: int,
        concurrent_resolutions: int,
        reader: "OutboxReader",
        behind_seconds: float = BEHIND_SECONDS,
    ) -> None:
        self.queue_size = queue_size
        self.behind_seconds = behind_seconds
        self.reader = reader
        self.resolving = asyncio.Semaphore(concurrent_resolutions)
        """How many batches are resolved at once, process-wide (each uses a connection)."""
        self.delivering = asyncio.Semaphore(concurrent_resolutions)
        """How many subscribers' selections execute at once (a few may need a connection)."""
        self._followed: dict[uuid.UUID, _Followed] = {}
        self._per_viewer: Counter[uuid.UUID] = Counter()
        self.started = 0
        """Subscriptions ever registered (monotonic: a readiness signal for tests)."""
        self.resolutions = 0
        """Batches resolved (each serves every subscriber of its conversation)."""

    @property
    def count(self) -> int:
        return sum(len(followed.subscribers) for followed in self._followed.values())

    @property
    def conversations(self) -> list[uuid.UUID]:
        return list(self._followed)

    def subscriptions_of(self, viewer_id: uuid.UUID) -> int:
        return self._per_viewer[viewer_id]

    def register(
        self,
        conversation_id: uuid.UUID,
        viewer_id: uuid.UUID,
        owner: Any,
        resolve: Resolver,
        newest: int,
    ) -> Subscriber:
        """A subscriber, counted for its viewer at once; `newest` is the conversation's
        newest position as read just before (where a relay starts)."""
        subscriber = Subscriber(conversation_id, viewer_id, owner, resolve, self.queue_size)
        followed = self._followed.get(conversation_id)
        if followed is None:
            followed = self._followed[conversation_id] = _Followed(newest, newest)
        followed.subscribers.add(subscriber)
        self._per_viewer[viewer_id] += 1
        self.started += 1
        return subscriber

    def unregister(self, subscriber: Subscriber) -> None:
        """The subscriber gone (again: nothing)."""
        conversation_id = subscriber.conversation_id
        followed = self._followed.get(conversation_id)
        if followed is None or subscriber not in followed.subscribers:
            return
        followed.subscribers.discard(subscriber)
        subscriber.close()
        self._per_viewer[subscriber.viewer_id] -= 1
        if self._per_viewer[subscriber.viewer_id] <= 0:
            del self._per_viewer[subscriber.viewer_id]
        if not followed.subscribers:
            del self._followed[conversation_id]

    def announce(self, announcement: Announcement) -> None:
        followed = self._followed.get(announcement.conversation_id)
        if followed is None or announcement.position <= followed.announced:
            return
        followed.announced = announcement.position
        if followed.relay is None and followed.position < followed.announced:
            followed.relay = asyncio.create_task(
                self._relay(announcement.conversation_id, followed),
                name=f"relay {announcement.conversation_id}",
            )

    async def sweep(self) -> None:
        """Announce every followed conversation's newest position as the outbox has it
        (after a reconnection, and periodically: an announcement may have been lost)."""
        if not self._followed:
            return
        newest = await self.reader.newest(self.conversations)
        for conversation_id, position in newest.items():
            self.announce(Announcement(conversation_id, position))

    async def _relay(self, conversation_id: uuid.UUID, followed: _Followed) -> None:
        try:
            while followed.position < followed.announced and followed.subscribers:
                try:
                    async with self.resolving:
                        events = await self.reader.events_after(
                            conversation_id, followed.position, RELAY_BATCH
                        )
                        if not events:  # pruned meanwhile: nothing left to relay
                            followed.position = followed.announced
                            break
                        subscribers = tuple(followed.subscribers)
                        if not subscribers:  # all gone while the rows were read
                            break
                        deliveries = await subscribers[0].resolve(subscribers, events)
                        self.resolutions += 1
                except Exception:
                    logger.warning("could not relay live events; retrying", exc_info=True)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                deadline = asyncio.get_running_loop().time() + self.behind_seconds
                waits = [
                    subscriber.take(rest, deadline)
                    for subscriber, items in deliveries.items()
                    if (rest := subscriber.offer(items))
                ]
                if waits:  # a batch larger than the room some queues have
                    await asyncio.gather(*waits)
                followed.position = events[-1].position
                followed.announced = max(followed.announced, followed.position)
        finally:
            followed.relay = None
