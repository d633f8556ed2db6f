"""Opaque keyset cursors: the sort key of a row, tagged with its connection's name."""

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from engagement_api.errors import BadUserInputError

MAX_SHOWN = 64
"""Characters of a malformed cursor quoted back in the error (it may be any size)."""


def encode_cursor(connection: str, key: Sequence[Any]) -> str:
    """orjson writes the key's datetimes as `isoformat()` does (RFC 3339 with offset), its
    uuids as strings and its IntEnums as integers, in C: one call per edge (`str` for the
    driver's own uuid subclass)."""
    payload = orjson.dumps([connection, *key], default=str)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _typed(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not an integer")
        return value
    raise ValueError(f"unsupported key type {kind}")


def decode_cursor(cursor: str, connection: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The sort key in `cursor`; BAD_USER_INPUT if it is malformed or from another connection."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, *values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if tag != connection or len(values) != len(kinds):
            raise ValueError("cursor of another connection")
        return tuple(_typed(value, kind) for value, kind in zip(values, kinds, strict=True))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as error:
        shown = cursor if len(cursor) <= MAX_SHOWN else f"{cursor[:MAX_SHOWN]}..."
        raise BadUserInputError(f"Invalid cursor for {connection}: {shown!r}.") from error
