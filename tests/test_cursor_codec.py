"""Every connection's cursor codec, derived from its declared sort key, reads back exactly
the key it wrote: generated keys of every connection and role, extremes included (nulls,
the oldest and newest instants, offsets other than UTC, equal timestamps), and any other
text is a key or BAD_USER_INPUT, never another error."""

import base64
import contextlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, Integer
from sqlalchemy.dialects.postgresql import UUID

from engagement_api.db.enums import Role
from engagement_api.db.models import IntEnumColumn
from engagement_api.db.pagination import SortKey
from engagement_api.db.queries import CONNECTIONS, ConnectionSpec
from engagement_api.db.scope import Scope, symbolic_scope
from engagement_api.errors import BadUserInputError
from engagement_api.resolvers.connections import codec_of

SCOPES = [symbolic_scope(role) for role in Role]
CASES = [(spec, scope) for spec in CONNECTIONS for scope in SCOPES]
IDS = [f"{spec.name}-{scope.role.name}" for spec, scope in CASES]

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.one_of(
    st.sampled_from(
        [
            datetime.min.replace(tzinfo=UTC),
            datetime.max.replace(tzinfo=UTC),
            datetime(1970, 1, 1, tzinfo=UTC),
        ]
    ),
    st.datetimes(timezones=st.just(UTC)),
    # An offset moves the instant: kept a day inside the range Python can compare.
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets),
)


def _values(key: SortKey) -> st.SearchStrategy[Any]:
    kind = key.column.type
    values: st.SearchStrategy[Any]
    if isinstance(kind, IntEnumColumn):
        values = st.sampled_from(list(kind.enum))
    elif isinstance(kind, DateTime):
        values = instants
    elif isinstance(kind, UUID):
        values = st.uuids()
    elif isinstance(kind, Integer):
        values = st.integers(-(2**63), 2**63 - 1)
    else:
        raise AssertionError(f"no values for {kind}")
    return st.one_of(st.none(), values) if key.nullable else values


def _keys(spec: ConnectionSpec, scope: Scope) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*(_values(key) for key in spec.ordering(scope).keys))


@pytest.mark.parametrize(("spec", "scope"), CASES, ids=IDS)
@given(data=st.data())
def test_every_connection_reads_back_the_key_it_wrote(
    spec: ConnectionSpec, scope: Scope, data: st.DataObject
) -> None:
    codec = codec_of(spec, scope)
    key = data.draw(_keys(spec, scope))
    decoded = codec.decode(codec.encode(key))
    assert decoded == key
    assert [type(value) for value in decoded] == [type(value) for value in key]
    for value, original in zip(decoded, key, strict=True):
        if isinstance(value, datetime):
            assert value.utcoffset() == original.utcoffset()


@pytest.mark.parametrize(("spec", "scope"), CASES, ids=IDS)
@given(data=st.data())
def test_keys_equal_but_for_the_tiebreaker_get_distinct_cursors(
    spec: ConnectionSpec, scope: Scope, data: st.DataObject
) -> None:
    codec = codec_of(spec, scope)
    key = data.draw(_keys(spec, scope))
    other = data.draw(_keys(spec, scope).map(lambda drawn: (*key[:-1], drawn[-1])))
    assert (codec.encode(key) == codec.encode(other)) == (key == other)


@pytest.mark.parametrize(("spec", "scope"), CASES, ids=IDS)
@given(data=st.data())
def test_a_naive_timestamp_is_never_written_into_a_cursor(
    spec: ConnectionSpec, scope: Scope, data: st.DataObject
) -> None:
    keys = spec.ordering(scope).keys
    times = [i for i, key in enumerate(keys) if isinstance(key.column.type, DateTime)]
    assert times, "every documented order holds a timestamp"
    key = data.draw(_keys(spec, scope))
    naive = data.draw(st.datetimes())
    spoiled = tuple(naive if i == times[-1] else value for i, value in enumerate(key))
    with pytest.raises(ValueError, match="naive"):
        codec_of(spec, scope).encode(spoiled)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@pytest.mark.parametrize(("spec", "scope"), CASES, ids=IDS)
@given(data=st.data())
def test_any_other_text_is_a_key_or_bad_user_input(
    spec: ConnectionSpec, scope: Scope, data: st.DataObject
) -> None:
    tagged = st.lists(json_values, max_size=4).map(lambda values: [spec.name, *values])
    payloads = st.one_of(st.binary(), tagged.map(orjson.dumps))
    cursor = data.draw(
        st.one_of(st.text(), payloads.map(lambda raw: base64.urlsafe_b64encode(raw).decode()))
    )
    with contextlib.suppress(BadUserInputError):
        codec_of(spec, scope).decode(cursor)


@pytest.mark.parametrize(("spec", "scope"), CASES, ids=IDS)
@given(data=st.data())
def test_a_cursor_is_a_list_and_no_other_container_of_the_same_values(
    spec: ConnectionSpec, scope: Scope, data: st.DataObject
) -> None:
    """An object whose keys spell a key's values is no cursor (iterated, it would be)."""
    codec = codec_of(spec, scope)
    key = data.draw(_keys(spec, scope))
    written = orjson.loads(base64.urlsafe_b64decode(codec.encode(key) + "=="))
    as_object = base64.urlsafe_b64encode(orjson.dumps(dict.fromkeys(map(str, written))))
    with pytest.raises(BadUserInputError):
        codec.decode(as_object.decode())
