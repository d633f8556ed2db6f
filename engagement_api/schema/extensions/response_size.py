"""The characters of text an answer holds, counted a level at a time, up to a limit."""

from engagement_api.json_levels import json_levels


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
