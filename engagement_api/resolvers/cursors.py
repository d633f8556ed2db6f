"""Opaque keyset cursors: the sort key of a row, tagged with its connection's name.

A connection's codec is derived from its declared sort key (`db.pagination.Ordering`): each
part's column type says how its value is written and read back (an enum by its code, a
timestamp always with its offset, a uuid as text, an integer as is), and a nullable part
(one declared with `null_as`) also holds null. Every cursor the server writes decodes back
to the same key; anything else is BAD_USER_INPUT.
"""

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

import orjson
from sqlalchemy import DateTime, Integer
from sqlalchemy.dialects.postgresql import UUID

from engagement_api.db.models import IntEnumColumn
from engagement_api.db.pagination import Ordering, SortKey
from engagement_api.errors import BadUserInputError

MAX_SHOWN = 64
"""Characters of a malformed cursor quoted back in the error (it may be any size)."""


Reader = Callable[[Any], Any]
"""Reads one part of a cursor's JSON back into the sort key's value (ValueError if it is not
one); writes need no code of their own: orjson writes every kind as the readers expect."""


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without offset")
    try:  # the driver sends it in UTC: an offset can carry it out of the years it can hold
        parsed.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("timestamp out of range") from error
    return parsed


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a uuid")
    return uuid.UUID(value)


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def _enum(enum: type[IntEnum]) -> Reader:
    def read(value: Any) -> IntEnum:
        return enum(_integer(value))

    return read


def _nullable(read: Reader) -> Reader:
    def read_or_null(value: Any) -> Any:
        return None if value is None else read(value)

    return read_or_null


def reader_of(key: SortKey) -> Reader:
    """How the cursor's value of `key` is read, from its column's type."""
    kind = key.column.type
    read: Reader
    if isinstance(kind, IntEnumColumn):
        read = _enum(kind.enum)
    elif isinstance(kind, DateTime):
        if not kind.timezone:
            raise TypeError(f"sort column {key.column} is a timestamp without time zone")
        read = _timestamp
    elif isinstance(kind, UUID):
        read = _uuid
    elif isinstance(kind, Integer):
        read = _integer
    else:
        raise TypeError(f"no cursor codec for sort column {key.column} of type {kind}")
    return _nullable(read) if key.nullable else read


@dataclass(frozen=True, slots=True)
class CursorCodec:
    """The cursors of one connection: its name and how each part of its sort key reads."""

    connection: str
    readers: tuple[Reader, ...]
    timestamps: tuple[int, ...]
    """Positions of the timestamp parts: written only with an offset."""

    @classmethod
    def of(cls, connection: str, ordering: Ordering) -> "CursorCodec":
        readers = tuple(reader_of(key) for key in ordering.keys)
        timestamps = tuple(
            i for i, key in enumerate(ordering.keys) if isinstance(key.column.type, DateTime)
        )
        return cls(connection, readers, timestamps)

    def encode(self, key: Sequence[Any]) -> str:
        for i in self.timestamps:
            value = key[i]
            if value is not None and value.tzinfo is None:
                # A naive time would decode to another instant, or not at all.
                raise ValueError(f"{self.connection} sort key holds a naive timestamp {value!r}")
        return encode_cursor(self.connection, key)

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The sort key in `cursor`; BAD_USER_INPUT if it is malformed or of another
        connection."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            written = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(written, list):  # an object would unpack as its keys
                raise ValueError("not a cursor")
            tag, *values = written
            if tag != self.connection or len(values) != len(self.readers):
                raise ValueError("cursor of another connection")
            return tuple(read(value) for read, value in zip(self.readers, values, strict=True))
        except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as e:
            shown = cursor if len(cursor) <= MAX_SHOWN else f"{cursor[:MAX_SHOWN]}..."
            raise BadUserInputError(f"Invalid cursor for {self.connection}: {shown!r}.") from e


def encode_cursor(connection: str, key: Sequence[Any]) -> str:
    """orjson writes the key's datetimes as `isoformat()` does (RFC 3339 with offset), its
    uuids as strings and its IntEnums as integers, in C: one call per edge (`str` for the
    driver's own uuid subclass)."""
    payload = orjson.dumps([connection, *key], default=str)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")
