"""Decoded JSON walked a level at a time: no recursion limit, and a level's scalars are
passed over in one comprehension, not one by one. A request's variables are measured by
it (`http/errors.json_shape`), and an answer's size as JSON (`json_size`)."""

from collections.abc import Iterator
from itertools import chain
from typing import Any

import orjson

CONTAINERS = frozenset({list, dict})
"""The types JSON's arrays and objects decode to (orjson makes no subclasses)."""

CHUNK_BYTES = 1 << 20
"""The most JSON built at once to measure a level's values (but for one longer string):
a level may repeat one long string thousands of times, an answer too large to be built."""
ESCAPED_BYTES = 6
"""The most bytes of JSON one character takes: a control character is written \\u0001."""
OTHER_SCALAR_BYTES = 64
"""The most bytes a number, boolean, null or date takes (a float or a datetime, at worst)."""


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


def json_over(data: object, limit: int) -> bool:
    """Whether `orjson.dumps(data)` is longer than `limit`, without building it. Most
    answers are far under: a bound from their characters (each at most `ESCAPED_BYTES`)
    tells, at the cost of a count of characters; the bytes are counted only past it."""
    bound = 0
    for level, containers in json_levels(data):
        entries = sum(map(len, containers))
        strings = [len(item) for item in level if type(item) is str]
        keys = [sum(map(len, item)) for item in containers if type(item) is dict]
        others = len(level) - len(containers) - len(strings)
        characters = sum(strings) + sum(keys)
        quotes = 2 * len(strings) + 4 * entries  # a key's quotes and colon, a comma
        bound += ESCAPED_BYTES * characters + quotes + OTHER_SCALAR_BYTES * others
        bound += 2 * len(containers)
        if bound > limit:
            return json_size(data, limit) > limit
    return False


def json_size(data: object, limit: int) -> int:
    """The length of `orjson.dumps(data)` (each string counted where it appears, however
    many times one object is referenced), or a number over `limit` as soon as it passes
    it: counting stops there, having encoded about `CHUNK_BYTES` at a time."""
    size = 0
    for level, containers in json_levels(data):
        entries = list(map(len, containers))
        keys = list(chain.from_iterable([item for item in containers if type(item) is dict]))
        # Brackets or braces, a comma between two entries, a colon after each key.
        size += 2 * len(entries) + sum(entries) - (len(entries) - entries.count(0)) + len(keys)
        size += _values_size(keys, limit - size)
        scalars = [item for item in level if type(item) not in CONTAINERS]
        size += _values_size(scalars, limit - size)
        if size > limit:
            break
    return size


def _values_size(values: list[Any], room: int) -> int:
    """The bytes of each of `values` (no lists or objects) as JSON, summed; a number over
    `room` as soon as it passes it."""
    characters = sum([len(value) for value in values if type(value) is str])
    if ESCAPED_BYTES * characters + OTHER_SCALAR_BYTES * len(values) <= CHUNK_BYTES:
        return _encoded_size(values)
    size = bound = 0
    chunk: list[Any] = []
    for value in values:
        most = ESCAPED_BYTES * len(value) + 2 if type(value) is str else OTHER_SCALAR_BYTES
        if chunk and bound + most > CHUNK_BYTES:
            size += _encoded_size(chunk)
            if size > room:
                return size
            chunk, bound = [], 0
        chunk.append(value)
        bound += most
    return size + _encoded_size(chunk)


def _encoded_size(values: list[Any]) -> int:
    """The bytes of each of `values` as JSON, summed: their array without its brackets
    and commas."""
    return len(orjson.dumps(values)) - len(values) - 1 if values else 0
