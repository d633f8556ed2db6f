"""One subscriber's scope for one event: its context (the audience's rows primed in its
loaders; a transaction only if the selection needs more), made when the event's selection
first reads it (never, when the audience's shared result serves it), held while the
selection executes, and given back just before the result is sent.

Giving it back before the send matters: a client that reads slowly makes the send wait,
and must not hold a pooled connection meanwhile. The WebSocket handler calls
`release_current_event_scope()` right before it sends; the scope of the operation being
sent is found through a context variable (each operation runs in its own task, and an
async generator's body runs in the context of the task that iterates it).

A process-wide gate bounds how many selections execute at once, so that a burst of
selections that need the database queues here rather than timing out in the pool.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar, Token
from types import TracebackType

from engagement_api.context import RequestContext
from engagement_api.errors import ServiceUnavailableError

_current: ContextVar["EventScope | None"] = ContextVar("event_scope", default=None)


class EventScope:
    """`async with EventScope(context, gate) as scope:` then `scope.context`."""

    def __init__(self, make_context: Callable[[], RequestContext], gate: asyncio.Semaphore) -> None:
        self._gate = gate
        self._token: Token[EventScope | None] | None = None
        self._held = False
        self._make_context = make_context
        self._context: RequestContext | None = None

    @property
    def context(self) -> RequestContext:
        if self._context is None:
            self._context = self._make_context()
        return self._context

    async def __aenter__(self) -> "EventScope":
        await self._gate.acquire()
        self._held = True
        self._token = _current.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            with suppress(ValueError):  # reset from another context: nothing to undo
                _current.reset(self._token)
        await self.release()

    async def release(self) -> None:
        """Roll back, give the connection and the gate back; idempotent."""
        if not self._held:
            return
        self._held = False
        try:
            if self._context is not None:
                with suppress(ServiceUnavailableError):
                    await self._context.close(commit=False)
        finally:
            self._gate.release()


async def release_current_event_scope() -> None:
    """Called before a WebSocket message is sent from an operation's task."""
    scope = _current.get()
    if scope is not None:
        await scope.release()
