"""Strawberry's extension runner, with each phase's hooks worked out once per set of
extension classes.

For every phase of every request (operation, parsing, validation, execution) Strawberry asks
each extension for its hook (`inspect` checks the function's kind, `contextlib` wraps it,
`functools.update_wrapper` included) and enters the hooks through an exit stack: 44 lookups,
17 wrappers and 17 exit callbacks per request here, a fifth of a small request's CPU. Which
classes have which hooks never changes, so `HookRunner` works that out once per tuple of
extension classes; a phase then enters its hooks in order and exits them in reverse, as
nested `with` blocks do (and as Strawberry's exit stack does): an exception raised inside
is passed to each hook on the way out, and one a hook raises replaces it for the hooks
outside. As in Strawberry, no hook can suppress an exception of the block itself: what a
hook swallows, the outer hooks do not see, but the block's exception still propagates.
"""

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

Manager = Any
"""A hook's context manager (sync or async)."""
Hook = tuple[int, Callable[[SchemaExtension], Manager], bool]
"""(the extension's position, how to make its context manager, whether it is async)."""

PHASES = ("on_operation", "on_parse", "on_validate", "on_execute")


def _maker(extension_class: type[SchemaExtension], name: str) -> tuple[Any, bool] | None:
    """How to make the context manager of `name` for an instance of `extension_class`."""
    function = getattr(extension_class, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return partial(_generator_manager, function), False
    if inspect.isasyncgenfunction(function):
        return partial(_async_generator_manager, function), True

    def wrapped(extension: SchemaExtension) -> Manager:
        return ExtensionContextManagerBase.from_callable(extension, function).hook()

    return wrapped, inspect.iscoroutinefunction(function)


def _generator_manager(function: Any, extension: SchemaExtension) -> Manager:
    return contextlib._GeneratorContextManager(function, (extension,), {})


def _async_generator_manager(function: Any, extension: SchemaExtension) -> Manager:
    return contextlib._AsyncGeneratorContextManager(function, (extension,), {})


_plans: dict[tuple[type[SchemaExtension], ...], dict[str, list[Hook]]] = {}


def _plan(classes: tuple[type[SchemaExtension], ...]) -> dict[str, list[Hook]]:
    plan = _plans.get(classes)
    if plan is None:
        plan = _plans[classes] = {name: [] for name in PHASES}
        for position, extension_class in enumerate(classes):
            for name in PHASES:
                maker = _maker(extension_class, name)
                if maker is not None:
                    plan[name].append((position, *maker))
    return plan


class _Phase:
    """One phase's hooks around a block, entered in order and exited in reverse."""

    __slots__ = ("_entered", "_extensions", "_hooks", "_name")

    def __init__(self, extensions: list[SchemaExtension], name: str, hooks: list[Hook]) -> None:
        """Args:
        extensions: the request's extension instances.
        name: the phase's hook name (`on_operation`, ...).
        hooks: the phase's hooks, by the extensions' positions.
        """
        self._extensions = extensions
        self._name = name
        self._hooks = hooks
        self._entered: list[tuple[Manager, bool]] = []

    def __enter__(self) -> None:
        for position, make, is_async in self._hooks:
            if is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {self._extensions[position]}.{self._name} "
                    "failed to complete synchronously."
                )
            manager = make(self._extensions[position])
            manager.__enter__()
            self._entered.append((manager, False))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        unwinding = _Unwinding(exc_type, exc, traceback)
        for manager, _ in reversed(self._entered):
            try:
                unwinding.exited(manager.__exit__(*unwinding.details))
            except BaseException as error:
                unwinding.raised(error)
        unwinding.finish()

    async def __aenter__(self) -> None:
        for position, make, is_async in self._hooks:
            manager = make(self._extensions[position])
            if is_async:
                await manager.__aenter__()
            else:
                manager.__enter__()
            self._entered.append((manager, is_async))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        unwinding = _Unwinding(exc_type, exc, traceback)
        for manager, is_async in reversed(self._entered):
            try:
                details = unwinding.details
                done = await manager.__aexit__(*details) if is_async else manager.__exit__(*details)
                unwinding.exited(done)
            except BaseException as error:
                unwinding.raised(error)
        unwinding.finish()


class _Unwinding:
    """The exception passed outwards through a phase's hooks, as through nested `with`
    blocks: a hook that handles it hides it from the hooks outside, one that raises another
    replaces it (with the first as its context); what is pending at the end is raised."""

    __slots__ = ("details", "pending")

    def __init__(self, *details: Any) -> None:
        """Args:
        details: the block's exception as (type, value, traceback), or three Nones.
        """
        self.details: tuple[Any, ...] = details
        self.pending = False

    def exited(self, handled: bool | None) -> None:
        if handled:
            self.pending, self.details = False, (None, None, None)

    def raised(self, error: BaseException) -> None:
        _chain(error, self.details[1])
        self.pending, self.details = True, (type(error), error, error.__traceback__)

    def finish(self) -> None:
        if self.pending:
            raise self.details[1]


def _chain(error: BaseException, previous: BaseException | None) -> None:
    """As nested `with` blocks: an exception raised on the way out of one hook has the
    exception it replaced as its context."""
    if previous is not None and error is not previous and error.__context__ is None:
        error.__context__ = previous


class HookRunner(SchemaExtensionsRunner):
    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None
    ) -> None:
        """Args:
        execution_context: the operation's execution context.
        extensions: the request's extension instances.
        """
        super().__init__(execution_context, extensions)
        self._plan = _plan(tuple(map(type, self.extensions)))

    def _phase(self, name: str) -> Any:
        return _Phase(self.extensions, name, self._plan[name])

    def operation(self) -> Any:
        return self._phase("on_operation")

    def parsing(self) -> Any:
        return self._phase("on_parse")

    def validation(self) -> Any:
        return self._phase("on_validate")

    def executing(self) -> Any:
        return self._phase("on_execute")
