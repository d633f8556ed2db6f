"""What stock Strawberry does, read off its public API once at import.

The compiler keeps stock behaviour where it matters: it extends the execution context
class Strawberry runs a schema with by default (so resolvers receive the same `info`),
and it leaves a value marked by `strawberry.cast` to the type's own `is_type_of`. Neither
the class nor the marker is exported; both are read here from what `strawberry.Schema`
and `strawberry.cast` publicly do, and a Strawberry that stops doing it fails at import.
"""

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import Executor


@strawberry.type
class _Probe:
    ok: bool


def default_execution_context() -> type[Executor[Any]]:
    """The class `strawberry.Schema` executes with when given none."""
    chosen = strawberry.Schema(query=_Probe).execution_context_class
    if not (isinstance(chosen, type) and issubclass(chosen, Executor)):
        raise TypeError(f"Strawberry's default execution context is {chosen!r}")
    return chosen


def cast_marker() -> str:
    """The attribute `strawberry.cast` sets on the object it marks."""
    probe = SimpleNamespace()
    strawberry.cast(_Probe, probe)
    (name,) = vars(probe)
    return name


if TYPE_CHECKING:
    StockExecutionContext = Executor[Any]
else:
    StockExecutionContext = default_execution_context()

CAST_ATTRIBUTE = cast_marker()


def cast_type(value: Any) -> Any:
    """The type `value` was cast to with `strawberry.cast`, or None."""
    return getattr(value, CAST_ATTRIBUTE, None)
