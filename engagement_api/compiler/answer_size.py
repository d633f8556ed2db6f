"""An upper bound of the bytes a planned answer's JSON takes, made as its levels are built.

A query whose worst case is over `MAX_RESPONSE_BYTES` has its answer measured after it ran
(`schema/extensions/query_cost.py`), a walk of every value: a fifth of a dashboard's CPU.
The levels already hold every value once per place it takes in the answer, so a few passes
in C over each level's text columns bound the answer; the walk runs only when that bound
is over the limit."""

from dataclasses import dataclass
from operator import itemgetter
from types import NoneType
from typing import Any

from graphql import get_named_type

from engagement_api.compiler.plan import TYPENAME, SelectionPlan
from engagement_api.json_levels import ESCAPED_BYTES, OTHER_SCALAR_BYTES

SHORT_SCALARS = frozenset({"Int", "Float", "Boolean", "DateTime"})
"""Scalars whose value takes at most `OTHER_SCALAR_BYTES` of JSON."""
TEXT_CLASSES = frozenset({str, NoneType})


NULL_ITEM_BYTES = 5
"""A list's item that is null: `null` and its comma (an item that is an object is a row of
the child level)."""
LIST_CLASSES = frozenset({list, NoneType})


@dataclass(frozen=True, slots=True)
class LevelSize:
    """What one row of a selection plan takes at most: `fixed` bytes whatever its text,
    plus `ESCAPED_BYTES` per character of the values at `texts`, plus `NULL_ITEM_BYTES` per
    item of the lists at `lists`."""

    fixed: int
    texts: tuple[str, ...]
    lists: tuple[str, ...]


def level_size(plan: SelectionPlan) -> LevelSize | None:
    """None for a plan with a list of leaves (no column of strings to count)."""
    fixed = 3  # braces, and the comma or bracket before the row
    texts: list[str] = []
    lists: list[str] = []
    for field in plan.fields:
        fixed += len(field.key) + 4  # quotes, colon, comma
        if field.how == TYPENAME:
            fixed += len(field.typename) + 2
        elif not field.is_leaf:
            fixed += 4  # null, or a list's brackets; a child object is its level's row
            if field.is_list:
                lists.append(field.key)
        elif field.is_list:
            return None
        elif field.return_type is not None and get_named_type(field.return_type).name in (
            SHORT_SCALARS
        ):
            fixed += OTHER_SCALAR_BYTES
        else:
            fixed += 4  # quotes, or null
            texts.append(field.key)
    return LevelSize(fixed, tuple(texts), tuple(lists))


def level_bytes(size: LevelSize, rows: list[Any]) -> int | None:
    """At most the bytes of `rows` (one level's result dicts) in the answer; None when a
    text value is not a string (or a row no dict)."""
    total = size.fixed * len(rows)
    try:
        for key in size.texts:
            values = list(map(itemgetter(key), rows))
            if not set(map(type, values)) <= TEXT_CLASSES:
                return None
            total += ESCAPED_BYTES * sum(map(len, filter(None, values)))
        for key in size.lists:
            values = list(map(itemgetter(key), rows))
            if not set(map(type, values)) <= LIST_CLASSES:
                return None
            total += NULL_ITEM_BYTES * sum(map(len, filter(None, values)))
    except (KeyError, TypeError):  # a row nulled, or completed without the field
        return None
    return total
