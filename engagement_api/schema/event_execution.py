"""A live event's selection executed once per audience, operation and variables.

An event delivered to an audience carries `shared_results` (resolvers/event_audience.py),
a slot that lives as long as the event's deliveries. The first member that executes an
operation on the event stores the result there; the others with the same operation and
variables take it (the same `data` object), so their work is a queue put and a socket
write. The WebSocket handler encodes a shared result's payload once (`SharedResult`).

Only a complete result is shared: a result with errors, or an execution that failed (its
owner's socket closed meanwhile), leaves the others to execute their own.
"""

import asyncio
import inspect
import weakref
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import partial
from typing import Any, ClassVar

from graphql import ExecutionResult, Executor, OperationDefinitionNode

from engagement_api.schema.event_sharing import ViewerDependent, sharing


class SharedResult:
    """One operation's result for one event and audience, and its encoded payload."""

    __slots__ = ("__weakref__", "encoded", "operation", "pending", "result")

    def __init__(self, operation: OperationDefinitionNode) -> None:
        self.operation = operation
        self.result: ExecutionResult | None = None
        self.pending: asyncio.Future[Any] | None = None
        self.encoded: tuple[object, str] | None = None
        """The last payload's extensions (the operation's, such as its cost) and its text."""

    def payload_text(self, payload: Mapping[str, object], encode: Callable[[object], str]) -> str:
        """The encoded `next` payload (its `data` is this result's): encoded once while
        its extensions stay equal, as they do for one operation."""
        extensions = payload.get("extensions")
        if self.encoded is None or self.encoded[0] != extensions:
            self.encoded = (extensions, encode(payload))
        else:
            _Served.encodings += 1
        return self.encoded[1]


_by_data: "weakref.WeakValueDictionary[int, SharedResult]" = weakref.WeakValueDictionary()
"""Complete shared results by the id of their `data` (held by the entry, so never reused
while it is registered)."""


Watcher = Callable[[Executor[Any], Any], None]
"""Told of an event's executor and its sharing key (None: executed per subscriber)."""

_watcher: ContextVar[Watcher | None] = ContextVar("event_executor_watcher", default=None)
"""Told of each event's executor in the task it runs in (schema/event_frames.py)."""


def watch_executors(callback: Watcher | None) -> Callable[[], None]:
    """Tell `callback` of the event executors of the tasks created until the returned
    function is called (a task copies the context when it is created)."""
    token = _watcher.set(callback)
    return lambda: _watcher.reset(token)


class _Served:
    """For `/healthz`."""

    count = 0
    """Event results taken from an audience's shared result."""
    encodings = 0
    """`next` payloads sent with an audience's encoding of it."""


def served() -> dict[str, int]:
    return {"sharedResults": _Served.count, "sharedEncodings": _Served.encodings}


def shared_result(data: object) -> SharedResult | None:
    """The shared result whose `data` this is, if any."""
    entry = _by_data.get(id(data))
    if entry is None or entry.result is None or entry.result.data is not data:
        return None
    return entry


_NOT_AN_EVENT: Any = object()


def take_shared(
    results: Mapping[Any, SharedResult], key: Any, operation: OperationDefinitionNode
) -> SharedResult | None:
    """The complete shared result of `operation` under `key`, if one is there (what the
    executor would hand back without executing)."""
    entry = results.get(key)
    if entry is None or entry.operation is not operation or entry.result is None:
        return None
    _Served.count += 1
    return entry


def _complete(entry: SharedResult, result: Any) -> None:
    if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
        entry.result = result
        _by_data[id(result.data)] = entry


class SharedEventExecution(Executor[Any]):
    """Mixed in before an executor class (the server's, compiled or stock)."""

    viewer_dependent: ClassVar[ViewerDependent] = frozenset()
    """Set from the built schema (event_sharing.viewer_dependent_fields)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        results: dict[Any, SharedResult] | None = getattr(
            self.root_value, "shared_results", _NOT_AN_EVENT
        )
        if results is _NOT_AN_EVENT:
            return super().execute_operation(serially)
        plan = (
            None
            if results is None
            else sharing(
                self.schema, self.operation, self.fragment_definitions, self.viewer_dependent
            )
        )
        key = None if plan is None else plan.key(self.operation, self.variable_values.coerced)
        watcher = _watcher.get()
        if watcher is not None:
            watcher(self, key)
        if results is None or key is None:
            return super().execute_operation(serially)
        entry = results.get(key)
        own = partial(super().execute_operation, serially)
        if entry is not None and entry.operation is self.operation:
            if entry.result is not None:
                _Served.count += 1
                return entry.result
            if entry.pending is not None:
                return self._wait(entry.pending, entry, own)
            return own()  # the owner's result had errors
        entry = results[key] = SharedResult(self.operation)
        produced = own()
        if not self.is_awaitable(produced):
            _complete(entry, produced)
            return produced
        entry.pending = asyncio.ensure_future(produced)
        return self._settle(entry.pending, entry)

    @staticmethod
    async def _settle(pending: "asyncio.Future[Any]", entry: SharedResult) -> Any:
        # Shielded: the others may wait on it after this subscriber's task is cancelled.
        try:
            result = await asyncio.shield(pending)
        finally:
            entry.pending = None
        _complete(entry, result)
        return result

    @staticmethod
    async def _wait(
        pending: "asyncio.Future[Any]", entry: SharedResult, own: Callable[[], Any]
    ) -> Any:
        try:
            await asyncio.shield(pending)
        except asyncio.CancelledError:
            if pending.cancelled():
                return await _resolved(own())
            raise
        except Exception:
            return await _resolved(own())
        if entry.result is None:
            _complete(entry, pending.result())
        if entry.result is None:
            return await _resolved(own())
        _Served.count += 1
        return entry.result


async def _resolved(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def shared_events(executor: type[Executor[Any]]) -> type[SharedEventExecution]:
    """`executor` with live events' results shared (a class of its own per schema)."""
    return type(f"SharedEvents{executor.__name__}", (SharedEventExecution, executor), {})
