"""`IntEnumColumn` reads the design's integer codes back as enum members, in C."""

import pytest
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from engagement_api.db.enums import Role
from engagement_api.db.models import IntEnumColumn

DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def _read(value: object) -> object:
    processor = IntEnumColumn(Role, small=True).result_processor(DIALECT, None)
    return processor(value)


def test_every_code_reads_as_its_member() -> None:
    assert [_read(int(role)) for role in Role] == list(Role)
    assert all(type(_read(int(role))) is Role for role in Role)


def test_null_reads_as_none() -> None:
    assert _read(None) is None


def test_an_unknown_code_is_an_error_not_a_silent_value() -> None:
    with pytest.raises(KeyError):
        _read(max(Role) + 1)
