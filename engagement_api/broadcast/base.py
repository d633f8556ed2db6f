"""The broadcaster: carries announcements of committed outbox rows to every server process
and hands them to this process's `Fanout`, which reads the rows from the outbox.

Each backend holds ONE listening connection per process. The connection is supervised
here, the same way for every backend: when it is lost, it is re-established with
exponential backoff (with jitter); once it listens again, the fanout sweeps the outbox for
what was committed meanwhile, so subscribers keep their streams without a gap. A periodic
sweep catches announcements that were never sent (a process killed between its commit
and its publication), and one process at a time prunes the outbox to its retention.
"""

import asyncio
import logging
import os
import random
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from engagement_api.broadcast.codec import decode
from engagement_api.broadcast.fanout import Fanout
from engagement_api.events import Announcement

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

SENDING = 4
"""Publishes sent at once per process: a backend that stalls holds this many connections."""

MAX_PUBLISHING = 1_000
"""Publishes in flight per process at most: a backend that hangs holds each for at most
`connect_timeout`, and what is not published is delivered by the next sweep."""


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
        maintenance: "Maintenance | None" = None,
    ) -> None:
        """Args:
        fanout: this process's subscribers.
        channel: the NOTIFY / pub/sub channel.
        health_check_seconds: an idle listener proves its connection alive this often.
        connect_timeout: bound of a connection attempt and of a health check.
        backoff: delays between reconnection attempts.
        maintenance: sweep and retention periods.
        """
        self.maintenance = maintenance or Maintenance()
        self.fanout = fanout
        self.channel = channel
        self.health_check_seconds = health_check_seconds
        self.connect_timeout = connect_timeout
        self.backoff = backoff
        self.connections = 0
        """How many times the listening connection was established (1 = never lost)."""
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._sweeps: set[asyncio.Task[None]] = set()
        self._publishing: set[asyncio.Task[None]] = set()
        self._sending = asyncio.Semaphore(SENDING)
        self._failed_publishes = 0

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
            "resolutions": self.fanout.resolutions,
        }

    async def start(self, *, wait_seconds: float = 10.0) -> None:
        """Start listening; wait (bounded) for the first connection, then go on regardless:
        the supervisor keeps trying in the background."""
        self._task = asyncio.create_task(self._supervise(), name=f"{self.backend}-listener")
        self._maintainer = asyncio.create_task(self._maintain(), name="outbox-maintenance")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)
        if not self.listening:
            logger.error(
                "%s listener is not connected yet; retrying in the background", self.backend
            )

    async def stop(self) -> None:
        for task in (self._task, self._maintainer):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        self._task = self._maintainer = None
        if self._publishing:  # announcements of commits already answered
            await asyncio.wait(self._publishing, timeout=self.connect_timeout)
        await self.close_publisher()
        await self.fanout.reader.close()

    def publish(self, announcements: Sequence[Announcement]) -> None:
        """After a commit: announce its outbox rows to every process, in the background.
        Never raises, never delays the response (the write is saved whatever happens here;
        a lost announcement only delays delivery until the next sweep): a backend that does
        not answer within `connect_timeout` is given up on, and beyond `MAX_PUBLISHING`
        publishes in flight new ones are left to the sweep."""
        if not announcements:
            return
        if self.maintenance.fault_kill_after_commit:  # a test's fault: die before publishing
            os.kill(os.getpid(), signal.SIGKILL)
        if len(self._publishing) >= MAX_PUBLISHING:
            self._publish_failed(f"{len(self._publishing)} publishes in flight already")
            return
        task = asyncio.create_task(self._publish(list(announcements)))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, announcements: list[Announcement]) -> None:
        """One publish, waiting its turn among `SENDING` (each send may hold a connection
        of the backend's pool). The first failure of an outage is logged with its cause,
        the end of the outage with how many publishes failed."""
        try:
            async with asyncio.timeout(self.connect_timeout), self._sending:
                await self.send(announcements)
        except Exception:
            self._publish_failed("the backend did not take them", exc_info=True)
            return
        if self._failed_publishes:
            logger.warning("announcing again, after %d failed publishes", self._failed_publishes)
            self._failed_publishes = 0

    def _publish_failed(self, cause: str, *, exc_info: bool = False) -> None:
        """Counted; logged at the first failure of an outage only."""
        self._failed_publishes += 1
        if self._failed_publishes == 1:
            logger.error(
                "could not announce events (%s); the sweep delivers them", cause, exc_info=exc_info
            )

    @abstractmethod
    async def send(self, announcements: Sequence[Announcement]) -> None:
        """Announce to every process (this one included)."""

    @abstractmethod
    async def close_publisher(self) -> None:
        """Release the publishing connection."""

    @abstractmethod
    async def listen(self, on_listening: Callable[[], None]) -> None:
        """Connect, subscribe, call `on_listening`, and hand payloads to `receive` until the
        connection is lost (return or raise); always release the connection."""

    def receive(self, payload: str | bytes) -> None:
        announcement = decode(payload)
        if announcement is None:
            logger.warning("ignored a malformed %s payload: %r", self.backend, payload[:200])
            return
        self.fanout.announce(announcement)

    async def _maintain(self) -> None:
        """Sweep often, prune seldom; neither may stop the other or the process."""
        period = self.maintenance.sweep_seconds
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + min(self.maintenance.prune_seconds, 5.0)
        failures = 0
        while True:
            await asyncio.sleep(period)
            try:
                await self.fanout.sweep()
                if loop.time() >= next_prune:
                    next_prune = loop.time() + self.maintenance.prune_seconds
                    pruned = await self.fanout.reader.prune(
                        keep=self.maintenance.retention_count,
                        max_age_seconds=self.maintenance.retention_seconds,
                    )
                    if pruned:
                        logger.info("pruned %d outbox event(s)", pruned)
            except Exception:
                failures += 1
                if failures == 1:  # once per outage, with its cause
                    logger.warning("outbox maintenance failed; retrying", exc_info=True)
                continue
            if failures:
                logger.warning("outbox maintenance works again, after %d failures", failures)
                failures = 0

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
            logger.warning("%s listener reconnected; sweeping the outbox", self.backend)
            task = asyncio.get_running_loop().create_task(self._sweep_once())
            self._sweeps.add(task)
            task.add_done_callback(self._sweeps.discard)
        self._listening.set()

    async def _sweep_once(self) -> None:
        try:
            await self.fanout.sweep()
        except Exception:
            logger.warning("the sweep after a reconnection failed", exc_info=True)


@dataclass(frozen=True, slots=True)
class Maintenance:
    """The outbox's periods and retention (settings, "Live feed")."""

    sweep_seconds: float = 1.0
    prune_seconds: float = 60.0
    retention_seconds: float = 7 * 24 * 3600.0
    retention_count: int = 1_000_000
    fault_kill_after_commit: bool = False
