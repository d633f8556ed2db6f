"""Output coercion of scalars and enums, as graphql-core completes a leaf, with a shortcut
for the values that coerce to themselves or by a table."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
    Undefined,
)
from graphql.pyutils import inspect

from engagement_api.schema.scalars import UTC, serialize_datetime


def coercion(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    """`leaf.coerce_output_value`, raising graphql-core's own error when it gives nothing."""
    coerce = leaf.coerce_output_value

    def coerce_checked(value: Any) -> Any:
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf)}.coerce_output_value({inspect(value)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    return coerce_checked


def passthrough_class(leaf: GraphQLLeafType) -> type | None:
    """The class whose values `leaf` returns as they are (str for String and ID, bool for
    Boolean); None for other leaves. Int is checked for its range where it is read (`rows.py`,
    `execute.py`)."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return str
    if leaf is GraphQLBoolean:
        return bool
    return None


def is_int(leaf: GraphQLLeafType) -> bool:
    return leaf is GraphQLInt


def enum_table(leaf: GraphQLLeafType) -> tuple[type | None, dict[Any, str]]:
    """For a Strawberry enum (its Python class in `wrapped_cls`): the class and each member's
    name as `coerce_output_value` gives it, computed once."""
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(members, type):
        return None, {}
    try:
        return members, {member: leaf.coerce_output_value(member) for member in members}  # type: ignore[attr-defined]
    except Exception:  # an enum whose members do not coerce: no table
        return None, {}


def written_by_encoder(leaf: GraphQLLeafType) -> tuple[type, object] | None:
    """(class, tzinfo) of the values of `leaf` that a built row keeps as they are, for the
    response's encoder to write: `DateTime`'s UTC datetimes, which orjson (the view's
    encoder, every response and WebSocket frame) writes as the same RFC 3339 text that
    `serialize_datetime` returns, in C while it writes the response. None for other
    leaves, whose values are coerced in the row."""
    if leaf.coerce_output_value is serialize_datetime:
        return datetime, UTC
    return None
