"""The per-process document cache (extensions/validation_cache.py) changes no answer:
failures are reported every time, and the rules that read variables still run on a
document the server already knows."""

import pytest

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import World

NESTED_PAGES = """query Nested($n: Int) { engagements(first: $n) { edges { node {
  conversations(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } }
} } } }"""


@pytest.fixture
async def token(world: World) -> str:
    org = await world.organization("Document cache")
    return (await world.user(org, Role.STAFF)).token


def codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error.get("extensions", {}).get("code") for error in errors]


async def test_invalid_document_is_refused_with_the_same_errors_every_time(
    gql: GraphQLClient, token: str
) -> None:
    document = "query DocumentCacheInvalid { engagements { noSuchField } }"
    first = await gql.execute(document, token=token)
    second = await gql.execute(document, token=token)
    assert first["errors"]
    assert second["errors"] == first["errors"]


async def test_cost_limit_applies_to_a_known_document_with_larger_variables(
    gql: GraphQLClient, token: str
) -> None:
    small = await gql.execute(NESTED_PAGES, {"n": 2}, token=token)
    assert "errors" not in small, small
    large = await gql.execute(NESTED_PAGES, {"n": 100}, token=token)
    assert codes(large) == ["QUERY_TOO_COMPLEX"]


async def test_known_document_answers_as_the_first_time(gql: GraphQLClient, token: str) -> None:
    document = "query DocumentCacheViewer { viewer { role } }"
    first = await gql.data(document, token=token)
    second = await gql.data(document, token=token)
    assert first == second == {"viewer": {"role": "STAFF"}}
