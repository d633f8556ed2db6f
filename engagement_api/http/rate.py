"""A token bucket that makes its caller wait instead of refusing it."""

import asyncio
import time


class PacedBucket:
    """`rate` takes per second after a first `burst`; `take` waits for its turn."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()

    async def take(self) -> None:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        if self._tokens < 0:  # owed: the caller waits until it is paid back
            await asyncio.sleep(-self._tokens / self.rate)
