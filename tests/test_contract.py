"""The served schema keeps the contract clients are written against, and the checked-in
`schema.graphql` is the served one."""

import os
from pathlib import Path

from graphql import build_schema, find_breaking_changes

from engagement_api.schema.export import served_sdl
from engagement_api.schema.schema import schema
from engagement_api.settings import PROJECT_ROOT

DESIGN_DIR = Path(
    os.environ.get("ENGAGEMENT_DESIGN_DIR", PROJECT_ROOT.parent / "shared" / "design")
)


def test_served_schema_has_no_breaking_change_against_the_contract() -> None:
    contract = build_schema((DESIGN_DIR / "api-contract.graphql").read_text())
    changes = find_breaking_changes(contract, schema._schema)
    assert [f"{change.type.name}: {change.description}" for change in changes] == []


def test_checked_in_schema_graphql_is_the_served_schema() -> None:
    checked_in = (PROJECT_ROOT / "schema.graphql").read_text()
    assert checked_in == served_sdl(), "schema.graphql is stale: run `engagement-api export-schema`"
