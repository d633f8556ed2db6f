"""Strawberry's extension runner, with each hook's kind worked out once per extension class.

For every phase of every request (operation, parsing, validation, execution) Strawberry asks
each extension for its hook: `inspect` checks the function's kind and `contextlib` wraps
it as a context manager (`functools.update_wrapper` included), 44 lookups and 17 wrappers
per request here. The kind of an extension class's hook never changes, so `HookRunner` keeps
it per class and builds each context manager directly. Entering and exiting stay
Strawberry's own (its exit stacks: the same order, the same exception handling).
"""

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

Kind = tuple[Callable[..., Any], bool] | None
"""(how to build the hook's context manager from the extension, whether it is async), or
None when the extension class has no hook for the phase."""

_kinds: dict[tuple[type[SchemaExtension], str], Kind | str] = {}
_UNKNOWN = "unknown"
"""A hook that is neither a generator nor an async generator: Strawberry wraps those."""


def _kind(extension_class: type[SchemaExtension], hook_name: str) -> Kind | str:
    key = (extension_class, hook_name)
    kind = _kinds.get(key)
    if kind is None and key not in _kinds:
        function = getattr(extension_class, hook_name)
        if function is getattr(SchemaExtension, hook_name):
            kind = None
        elif inspect.isgeneratorfunction(function):
            kind = (partial(contextlib._GeneratorContextManager, function), False)
        elif inspect.isasyncgenfunction(function):
            kind = (partial(contextlib._AsyncGeneratorContextManager, function), True)
        else:
            kind = _UNKNOWN
        _kinds[key] = kind
    return kind


class _KnownHooks(ExtensionContextManagerBase):
    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        kind = _kind(type(extension), self.HOOK_NAME)
        if kind is None:
            return None
        if isinstance(kind, str):
            return super().get_hook(extension)
        build, is_async = kind
        return WrappedHook(extension, partial(build, (extension,), {}), is_async)


class _Operation(_KnownHooks, OperationContextManager):
    pass


class _Parsing(_KnownHooks, ParsingContextManager):
    pass


class _Validation(_KnownHooks, ValidationContextManager):
    pass


class _Executing(_KnownHooks, ExecutingContextManager):
    pass


class HookRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
