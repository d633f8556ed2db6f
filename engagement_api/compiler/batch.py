"""Fields resolved for a whole level at once.

A field's resolver may carry a `LevelResolver` (`schema/types/_load.py` declares relation
fields so): what its resolver does for one parent row, done for all the rows of a level in
one go (one `load_many` on the field's DataLoader, the values made in one pass). The plan
records it for a field without permission classes or field extensions (those run per row,
through the resolver); the execution then calls `resolve_level` once per level instead of
the resolver once per row. Under stock execution the resolver runs as it is.
"""

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from graphql import GraphQLResolveInfo
from strawberry.types.field import StrawberryField

T = TypeVar("T")

LEVEL_RESOLVER = "_resolves_level"
"""The attribute of a resolver function that holds its `LevelResolver`."""


class LevelResolver(Protocol):
    def resolve_level(
        self, info: GraphQLResolveInfo[Any], sources: Sequence[Any], arguments: dict[str, Any]
    ) -> "asyncio.Future[list[Any]]":
        """Each source's value of the field, in order: what the resolver would return for
        it (awaited), or the exception it would raise, as a future (`level_values`) whose
        reads are issued before it returns: the execution awaits it without a task. `info`
        is the resolve info of the level's first row (its path aside, the same for every
        row); `arguments` are the coerced arguments by Python name."""
        ...


def level_resolver(definition: StrawberryField) -> LevelResolver | None:
    """The field's level resolver, when it has one and nothing runs around its resolver."""
    resolver = definition.base_resolver
    if resolver is None or definition.permission_classes or definition.extensions:
        return None
    found: LevelResolver | None = getattr(resolver.wrapped_func, LEVEL_RESOLVER, None)
    return found


def level_values(
    loading: "asyncio.Future[T]", finish: Callable[[T | Exception], list[Any]]
) -> "asyncio.Future[list[Any]]":
    """A level resolver's result: the future of `finish` applied to what `loading` gives
    (its value, or the exception it failed with), made by a callback rather than a task.
    Cancelling the result cancels `loading`; a failure of `finish` fails the result."""
    values: asyncio.Future[list[Any]] = loading.get_loop().create_future()

    def settle(loaded: "asyncio.Future[T]") -> None:
        if values.done():
            return
        if loaded.cancelled():
            values.cancel()
            return
        error = loaded.exception()
        if error is not None and not isinstance(error, Exception):
            values.set_exception(error)  # not a field's error: the execution re-raises it
            return
        try:
            made = finish(loaded.result() if error is None else error)
        except Exception as failure:
            values.set_exception(failure)
        else:
            values.set_result(made)

    def cancelled(values: "asyncio.Future[list[Any]]") -> None:
        if values.cancelled():
            loading.cancel()

    loading.add_done_callback(settle)
    values.add_done_callback(cancelled)
    return values
