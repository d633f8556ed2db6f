"""The characters of text an answer holds, counted a level at a time, up to a limit."""

from typing import Any

JSON_CONTAINERS = (list, dict)


def text_size(data: object, limit: int) -> int:
    """The characters of the strings and keys in `data` (each counted where it appears,
    however many times one object is referenced), or a number over `limit` as soon as it
    passes it: counting stops there."""
    level: list[Any] = [data]
    size = 0
    while level and size <= limit:
        size += sum([len(item) for item in level if type(item) is str])
        containers = [item for item in level if type(item) in JSON_CONTAINERS]
        level = []
        for container in containers:
            if type(container) is dict:
                size += sum(map(len, container))
                level.extend(container.values())
            else:
                level.extend(container)
    return size
