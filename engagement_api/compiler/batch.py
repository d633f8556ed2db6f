"""Fields resolved for a whole level at once.

A field's resolver may carry a `LevelResolver` (`schema/types/_load.py` declares relation
fields so): what its resolver does for one parent row, done for all the rows of a level in
one go (one `load_many` on the field's DataLoader, the values made in one pass). The plan
records it for a field without permission classes or field extensions (those run per row,
through the resolver); the execution then calls `resolve_level` once per level instead of
the resolver once per row. Under stock execution the resolver runs as it is.
"""

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from graphql import GraphQLResolveInfo
from strawberry.types.field import StrawberryField

LEVEL_RESOLVER = "_resolves_level"
"""The attribute of a resolver function that holds its `LevelResolver`."""


class LevelResolver(Protocol):
    def resolve_level(
        self, info: GraphQLResolveInfo[Any], sources: Sequence[Any], arguments: dict[str, Any]
    ) -> Awaitable[list[Any]]:
        """Each source's value of the field, in order: what the resolver would return for
        it (awaited), or the exception it would raise. `info` is the resolve info of the
        level's first row (its path aside, the same for every row); `arguments` are the
        coerced arguments by Python name."""
        ...


def level_resolver(definition: StrawberryField) -> LevelResolver | None:
    """The field's level resolver, when it has one and nothing runs around its resolver."""
    resolver = definition.base_resolver
    if resolver is None or definition.permission_classes or definition.extensions:
        return None
    found: LevelResolver | None = getattr(resolver.wrapped_func, LEVEL_RESOLVER, None)
    return found
