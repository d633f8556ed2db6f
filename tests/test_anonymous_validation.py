"""A request without valid credentials may ask `__typename` and introspection only: its
document is validated with a small budget for graphql-core's field-merging rule, so that
a few kilobytes of repeated fields cannot spend a tenth of a second of a worker's CPU."""

from graphql import get_introspection_query

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import World

REPEATED = "{ " + " ".join(f"viewer{' ' * (n % 3)} {{ __typename }}" for n in range(240)) + " }"
"""240 times the same field with a selection: 2.6 KB that graphql-core's field-merging rule
compares pair by pair."""


def _codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error.get("extensions", {}).get("code") for error in errors]


async def test_repeated_fields_without_credentials_are_refused_by_validation(
    gql: GraphQLClient,
) -> None:
    for token in (None, "not-a-jwt"):
        body = await gql.execute(REPEATED, token=token)
        assert body["data"] is None
        assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_the_same_document_with_credentials_is_validated_in_full(
    world: World, gql: GraphQLClient
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    data = await gql.data(REPEATED, token=staff.token)
    assert data == {"viewer": {"__typename": "Viewer"}}


async def test_what_a_request_without_credentials_may_ask_passes(gql: GraphQLClient) -> None:
    assert await gql.data("{ __typename }") == {"__typename": "Query"}
    introspection = get_introspection_query(descriptions=True, input_value_deprecation=True)
    data = await gql.data(introspection)  # the test server is in development mode
    assert data["__schema"]["queryType"]["name"] == "Query"
