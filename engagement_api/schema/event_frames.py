"""Live events written straight to the subscriber's socket, past the per-result stream.

Strawberry streams each event of a subscription through its per-result pipeline (the
event's `execute`, its extension hooks, the `next` message built and encoded, one hand-off
per step). For the feed's events that pipeline is the same for every event of an
operation, so it runs for the operation's first event only; the WebSocket handler gives
each operation a `FrameSink` (found through a context variable inside the operation's
task), which learns there:

- the operation's executor (graphql-core's, built once for the subscription), from which
  each later event gets its per-event copy (`Executor.build_per_event_executor`, the same
  call graphql-core's own event mapping makes), so an audience's shared result is taken
  exactly as before (schema/event_execution.py);
- the `next` payload's extensions (the operation's, such as its cost), which every later
  payload of the operation repeats.

Every later event whose result has no errors is then encoded (once per audience when its
result is shared) and written as one `next` frame, in order, from the operation's own
task. An event with errors, or one before the sink has learnt both, goes the stock way:
its error handling, masking and formatting stay Strawberry's.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from graphql import ExecutionResult, Executor

from engagement_api.compiler.executor import execute_rows
from engagement_api.schema.event_execution import (
    SharedResult,
    shared_result,
    take_shared,
    watch_executors,
)

_sink: ContextVar["FrameSink | None"] = ContextVar("frame_sink", default=None)


class _Written:
    """For `/healthz`: `next` frames written by sinks."""

    count = 0


def written() -> dict[str, int]:
    return {"directFrames": _Written.count}


DIRECT_KEYS = frozenset({"data", "extensions"})
"""A `next` payload the sink can repeat: data and the operation's extensions, no errors."""


class FrameSink:
    """One subscription operation's direct way to its socket."""

    __slots__ = ("_encode", "_send", "adopted", "executor", "extensions", "key")

    def __init__(
        self, send: Callable[[str], Awaitable[bool]], encode: Callable[[object], str]
    ) -> None:
        """Args:
        send: writes a `next` frame around an encoded payload; False when the operation
            is over (nothing was written).
        encode: the view's JSON encoder (the bytes the stock path sends).
        """
        self._send = send
        self._encode = encode
        self.executor: Executor[Any] | None = None
        self.key: Any = None
        """The operation's sharing key (schema/event_sharing.py); None: not shared."""
        self.extensions: object = None
        self.adopted = False
        """A payload of this operation went out the stock way (its extensions are known)."""

    def capture(self, executor: Executor[Any], key: Any) -> None:
        """The executor of one of the operation's events (any: each is a copy of the
        subscription's) and its sharing key (the same for every event of the operation)."""
        if self.executor is None:
            # A copy without this event: the sink outlives it, and must not keep its rows.
            self.executor = executor.build_per_event_executor(None)
            self.key = key

    async def deliver_shared(self, results: Mapping[Any, Any] | None) -> bool:
        """Write the event's `next` frame when its audience's result for this operation
        is complete already (nothing to execute); False when it is not."""
        if results is None or self.key is None or not self.adopted or self.executor is None:
            return False
        entry = take_shared(results, self.key, self.executor.operation)
        if entry is None or entry.result is None:
            return False
        return await self._write(entry.result.data, entry)

    def adopt(self, payload: Mapping[str, object]) -> None:
        """A `next` payload the stock path sends for this operation."""
        if "errors" in payload or not DIRECT_KEYS.issuperset(payload):
            return
        self.extensions = payload.get("extensions")
        self.adopted = True

    async def deliver(self, event: object) -> bool:
        """Execute `event` and write its `next` frame; False (nothing sent) when it must
        go the stock way instead."""
        executor = self.executor
        if executor is None or not self.adopted:
            return False
        result: Any = executor.build_per_event_executor(event).execute_operation()
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, ExecutionResult) or result.errors or result.data is None:
            return False
        return await self._write(result.data, shared_result(result.data))

    @property
    def ready(self) -> bool:
        """It has learnt the operation's executor and `next` payload extensions."""
        return self.executor is not None and self.adopted

    async def deliver_batch(self, events: Sequence[object]) -> int:
        """Execute `events` (root values sharing one context, in order) in one run of the
        operation's plan, and write their `next` frames in order: how many were written
        from the first (0 when the operation has no plan, or any event's result has an
        error; fewer when the operation ends meanwhile). The rest go the usual way."""
        executor = self.executor
        if executor is None or not self.adopted or not events:
            return 0
        running = execute_rows(executor.build_per_event_executor(events[0]), list(events))
        rows = None if running is None else await running
        if rows is None:
            return 0
        written = 0
        for data in rows:
            if not await self._write(data, None):
                break
            written += 1
        return written

    async def _write(self, data: object, shared: SharedResult | None) -> bool:
        payload: dict[str, object] = {"data": data}
        if self.extensions:
            payload["extensions"] = self.extensions
        text = (
            shared.payload_text(payload, self._encode)
            if shared is not None
            else self._encode(payload)
        )
        if not await self._send(text):
            return False
        _Written.count += 1
        return True


def current_sink() -> FrameSink | None:
    """The sink of the operation whose task is running, if it has one."""
    return _sink.get()


def open_sink(sink: FrameSink | None) -> Callable[[], None]:
    """Make `sink` current for the tasks created until the returned function is called
    (an operation's task copies the context when it is created)."""
    token = _sink.set(sink)
    unwatch = watch_executors(None if sink is None else sink.capture)

    def close() -> None:
        unwatch()
        _sink.reset(token)

    return close
