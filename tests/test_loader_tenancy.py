"""Every loader batch carries the viewer's organization (docs/scaling.md, Citus by org_id):
each sub-select of every statement the read graph sends filters on `org_id`, so that a
sharded database routes every statement to one shard."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from engagement_api import loaders  # noqa: F401  (registers every by-id loader)
from engagement_api.db import queries
from engagement_api.db.enums import Role
from engagement_api.db.models import Organization
from engagement_api.db.pagination import Window
from engagement_api.db.scope import Scope
from engagement_api.loaders.base import ByIdLoader

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
SCOPES = [Scope(ORG, uuid.uuid4(), Role.STAFF), Scope(ORG, uuid.uuid4(), Role.CLIENT)]
SPECS = [
    queries.ENGAGEMENTS,
    queries.PROPOSALS,
    queries.PROJECTS_OF_ENGAGEMENT,
    queries.CONVERSATIONS_OF_ENGAGEMENT,
    queries.ORDERS_OF_ENGAGEMENT,
    queries.MESSAGES_OF_CONVERSATION,
]

LOADERS: list[type[ByIdLoader]] = sorted(
    set(ByIdLoader._by_model.values()), key=lambda cls: cls.__name__
)


def _dialect() -> Dialect:
    return postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated


def _sql(statement: Select[object]) -> str:
    return str(statement.compile(dialect=_dialect()))


def _tenant_filters(statement: Select[object]) -> int:
    compiled = statement.compile(dialect=_dialect())
    names = [name for name, value in compiled.params.items() if value == ORG]
    return sum(_sql(statement).count(f"%({name})s") for name in names)


@pytest.mark.parametrize("scope", SCOPES, ids=lambda scope: scope.role.name)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_sub_select_of_a_page_statement_filters_on_the_organization(
    spec: queries.ConnectionSpec, scope: Scope
) -> None:
    key = tuple(
        datetime(2026, 1, 1, tzinfo=UTC) if i == 0 else uuid.uuid4()
        for i in range(spec.sort_key_size(scope))
    )
    window = Window(limit=10, after=key, with_total=True)
    statement = spec.statement(scope, [uuid.uuid4()], (), window)
    # the page, the total, the probe before the cursor, and each joined relation
    sub_selects = 3 + len(spec.joins)
    assert _tenant_filters(statement) >= sub_selects


@pytest.mark.parametrize("scope", SCOPES, ids=lambda scope: scope.role.name)
@pytest.mark.parametrize("loader", LOADERS)
def test_every_by_id_batch_filters_on_the_organization(
    loader: type[ByIdLoader], scope: Scope
) -> None:
    template, values = queries.by_ids_query(loader.model, loader.visible, scope, [uuid.uuid4()])
    statement = template.params(values)
    assert _tenant_filters(statement) >= 1
    if loader.model is not Organization:
        assert "org_id" in _sql(statement)
