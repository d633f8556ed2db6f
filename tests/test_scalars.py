"""The served `DateTime` scalar writes what Strawberry's (`isoformat()`) writes, faster."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.schema.scalars import serialize_datetime
from engagement_api.schema.schema import schema

EVERY_INSTANT = st.datetimes(timezones=st.just(UTC), allow_imaginary=False)
OTHER_ZONES = st.timezones() | st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


@settings(max_examples=500, deadline=None, database=None)
@given(EVERY_INSTANT)
def test_a_utc_datetime_is_written_as_isoformat_writes_it(value: datetime) -> None:
    assert serialize_datetime(value) == value.isoformat()


@settings(max_examples=200, deadline=None, database=None)
@given(st.datetimes(timezones=st.none() | OTHER_ZONES, allow_imaginary=False))
def test_a_naive_or_other_zone_datetime_is_written_as_isoformat_writes_it(value: datetime) -> None:
    assert serialize_datetime(value) == value.isoformat()


def test_the_served_datetime_scalar_serializes_with_it() -> None:
    served = schema._schema.type_map["DateTime"]
    assert served.serialize is serialize_datetime  # type: ignore[attr-defined]
    assert served.description == "Date with time (isoformat)"


def test_the_served_datetime_scalar_still_parses_input() -> None:
    served = schema._schema.type_map["DateTime"]
    parsed = served.parse_value("2026-11-26T03:57:05.817510+00:00")  # type: ignore[attr-defined]
    assert parsed == datetime(2026, 11, 26, 3, 57, 5, 817510, tzinfo=UTC)
