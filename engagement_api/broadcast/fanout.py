"""The process-local side of the live feed: which subscriber follows which conversation.

Every backend hands the events it receives to one `Fanout`, which puts them on the bounded
queue of each local subscriber of the event's conversation without ever waiting: a slow
subscriber cannot hold up the listener or the other subscribers. A subscriber whose queue
is full is closed (its pending events are dropped and it receives `FellBehind`).
"""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from engagement_api.events import MessageEvent


@dataclass(frozen=True, slots=True)
class EventsMissed:
    """The listening connection was lost and re-established: events may have been missed."""


@dataclass(frozen=True, slots=True)
class FellBehind:
    """The subscriber did not keep up; its stream ends here."""

    queue_size: int


Delivery = MessageEvent | EventsMissed | FellBehind


class Subscriber:
    """One subscription's bounded queue of deliveries."""

    def __init__(self, conversation_id: uuid.UUID, queue_size: int) -> None:
        self.conversation_id = conversation_id
        self.queue_size = queue_size
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=queue_size + 1)
        self.closed = False

    def offer(self, delivery: Delivery) -> None:
        """Enqueue without waiting; on overflow drop everything pending and close."""
        if self.closed:
            return
        if self._queue.qsize() < self.queue_size:
            self._queue.put_nowait(delivery)
            return
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(FellBehind(self.queue_size))

    async def next(self) -> Delivery:
        return await self._queue.get()


class Fanout:
    """Local subscribers by conversation id."""

    def __init__(self, queue_size: int, concurrent_resolutions: int) -> None:
        self.queue_size = queue_size
        self.resolving = asyncio.Semaphore(concurrent_resolutions)
        """How many subscribers may resolve an event at once (each holds a connection)."""
        self._subscribers: dict[uuid.UUID, set[Subscriber]] = defaultdict(set)
        self.started = 0
        """Subscriptions ever registered (monotonic: a readiness signal for tests)."""

    @property
    def count(self) -> int:
        return sum(len(group) for group in self._subscribers.values())

    @contextmanager
    def subscription(self, conversation_id: uuid.UUID) -> Iterator[Subscriber]:
        """A subscriber registered for the block's duration."""
        subscriber = Subscriber(conversation_id, self.queue_size)
        self._subscribers[conversation_id].add(subscriber)
        self.started += 1
        try:
            yield subscriber
        finally:
            group = self._subscribers.get(conversation_id)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._subscribers[conversation_id]

    def deliver(self, event: MessageEvent) -> None:
        for subscriber in tuple(self._subscribers.get(event.conversation_id, ())):
            subscriber.offer(event)

    def announce_gap(self) -> None:
        """Tell every local subscriber that events may have been missed."""
        for group in tuple(self._subscribers.values()):
            for subscriber in tuple(group):
                subscriber.offer(EventsMissed())
