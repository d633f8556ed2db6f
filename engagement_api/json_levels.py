"""Decoded JSON walked a level at a time: no recursion limit, and a level's scalars are
passed over in one comprehension, not one by one. A request's variables are measured by
it (`http/errors.json_shape`), and an answer's text (`text_size`)."""

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


def text_size(data: object, limit: int) -> int:
    """The characters of the strings and keys in `data` (each counted where it appears,
    however many times one object is referenced), or a number over `limit` as soon as it
    passes it: counting stops there."""
    size = 0
    for level, containers in json_levels(data):
        size += sum([len(item) for item in level if type(item) is str])
        size += sum([sum(map(len, item)) for item in containers if type(item) is dict])
        if size > limit:
            break
    return size
