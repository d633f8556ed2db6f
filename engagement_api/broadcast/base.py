"""The broadcaster: publishes committed message events to every server process and feeds
them to this process's subscribers.

Each backend holds ONE listening connection per process and hands what it receives to the
process's `Fanout`. The connection is supervised here, the same way for every backend:
when it is lost, it is re-established with exponential backoff (with jitter); once it
listens again, every local subscriber is told that events may have been missed
(`EventsMissed`), and keeps its stream.
"""

import asyncio
import logging
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass

from engagement_api.broadcast.codec import decode
from engagement_api.broadcast.fanout import Fanout, Subscriber
from engagement_api.events import MessageEvent

logger = logging.getLogger("engagement_api.broadcast")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between reconnection attempts: first, first*2, … up to `longest`, jittered."""

    first: float = 0.1
    longest: float = 10.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.longest, self.first * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_BACKOFF = Backoff()


class Broadcaster(ABC):
    """A backend's publisher and its supervised listening connection."""

    backend: str

    def __init__(
        self,
        fanout: Fanout,
        *,
        channel: str,
        health_check_seconds: float = 10.0,
        connect_timeout: float = 5.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """Args:
        fanout: this process's subscribers.
        channel: the NOTIFY / pub/sub channel.
        health_check_seconds: an idle listener proves its connection alive this often.
        connect_timeout: bound of a connection attempt and of a health check.
        backoff: delays between reconnection attempts.
        """
        self.fanout = fanout
        self.channel = channel
        self.health_check_seconds = health_check_seconds
        self.connect_timeout = connect_timeout
        self.backoff = backoff
        self.connections = 0
        """How many times the listening connection was established (1 = never lost)."""
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def status(self) -> dict[str, object]:
        """For `/healthz`: the listener's state and this process's subscribers."""
        return {
            "backend": self.backend,
            "listening": self.listening,
            "connections": self.connections,
            "subscribers": self.fanout.count,
            "subscriptionsStarted": self.fanout.started,
        }

    async def start(self, *, wait_seconds: float = 10.0) -> None:
        """Start listening; wait (bounded) for the first connection, then go on regardless:
        the supervisor keeps trying in the background."""
        self._task = asyncio.create_task(self._supervise(), name=f"{self.backend}-listener")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)
        if not self.listening:
            logger.error(
                "%s listener is not connected yet; retrying in the background", self.backend
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.close_publisher()

    def subscription(self, conversation_id: uuid.UUID) -> AbstractContextManager[Subscriber]:
        """A local subscriber of one conversation, registered for the block's duration."""
        return self.fanout.subscription(conversation_id)

    @abstractmethod
    async def publish(self, events: Sequence[MessageEvent]) -> None:
        """Send committed events to every process (this one included); never raises."""

    @abstractmethod
    async def close_publisher(self) -> None:
        """Release the publishing connection."""

    @abstractmethod
    async def listen(self, on_listening: Callable[[], None]) -> None:
        """Connect, subscribe, call `on_listening`, and hand payloads to `receive` until the
        connection is lost (return or raise); always release the connection."""

    def receive(self, payload: str | bytes) -> None:
        event = decode(payload)
        if event is None:
            logger.warning("ignored a malformed %s payload: %r", self.backend, payload[:200])
            return
        self.fanout.deliver(event)

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            try:
                await self.listen(self._on_listening)
                logger.warning("%s listening connection closed", self.backend)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("%s listening connection failed: %r", self.backend, error)
            if self.listening:
                attempt = 0
            self._listening.clear()
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1

    def _on_listening(self) -> None:
        self.connections += 1
        if self.connections > 1:
            logger.warning("%s listener reconnected; announcing a gap", self.backend)
            self.fanout.announce_gap()
        self._listening.set()
