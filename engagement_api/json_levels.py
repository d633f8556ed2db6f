"""Decoded JSON walked a level at a time: no recursion limit, and a level's scalars are
passed over in one comprehension, not one by one."""

from collections.abc import Iterator
from typing import Any

CONTAINERS = frozenset({list, dict})
"""The types JSON's arrays and objects decode to (orjson makes no subclasses)."""


def json_levels(value: object) -> Iterator[tuple[list[Any], list[Any]]]:
    """Each level of `value` (the value, then its items and members, and so on) with the
    lists and objects among them; a caller that has seen enough stops iterating."""
    level: list[Any] = [value]
    while level:
        containers = [item for item in level if type(item) in CONTAINERS]
        yield level, containers
        level = []
        for container in containers:
            level.extend(container.values() if type(container) is dict else container)
