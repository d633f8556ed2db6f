"""Scalar definitions that replace Strawberry's built-in ones, with the same SDL."""

import datetime as dt
from typing import Any

import orjson
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

UTC = dt.UTC


def serialize_datetime(value: Any) -> Any:
    """What `value.isoformat()` returns, written in C by orjson for the driver's values (UTC
    datetimes, 60 per thread page, 1,700 per dashboard): `isoformat` formats the offset
    through Python's `utcoffset` and a printf-style format, at about three times the cost.
    Any other value is left to `isoformat`, as Strawberry's `DateTime` does."""
    if type(value) is dt.datetime and value.tzinfo is UTC:
        return orjson.dumps(value)[1:-1].decode()
    return value.isoformat()


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=serialize_datetime,
    parse_value=DateTimeDefinition.parse_value,
    parse_literal=DateTimeDefinition.parse_literal,
    origin=dt.datetime,
)
"""Strawberry's `DateTime` (name, description, input parsing) with a faster output."""

SCALAR_OVERRIDES: dict[object, Any] = {dt.datetime: DATETIME}
