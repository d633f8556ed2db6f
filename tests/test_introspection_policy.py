"""Introspection policy (domain rules §4): open in dev mode, open to authenticated viewers
outside it, and off entirely (with did-you-mean suggestions hidden) when the setting says so.
"""

from collections.abc import Iterator

import pytest

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World

SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "Engagement") { name } }'


def _codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error.get("extensions", {}).get("code") for error in errors]


@pytest.fixture(scope="module")
def production_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "production",
        INTROSPECTION="false",
        ANONYMOUS_INTROSPECTION="false",
    )


@pytest.fixture(scope="module")
def staging_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "staging",
        INTROSPECTION="true",
        ANONYMOUS_INTROSPECTION="false",
    )


@pytest.fixture
def production(gql: GraphQLClient, production_server: RunningServer) -> GraphQLClient:
    return GraphQLClient(gql.http, production_server.graphql_url)


@pytest.fixture
def staging(gql: GraphQLClient, staging_server: RunningServer) -> GraphQLClient:
    return GraphQLClient(gql.http, staging_server.graphql_url)


@pytest.fixture
async def token(world: World) -> str:
    org = await world.organization("Introspection")
    return (await world.user(org, Role.STAFF)).token


async def test_dev_mode_lets_anyone_introspect(gql: GraphQLClient) -> None:
    data = await gql.data(SCHEMA_QUERY)
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_outside_dev_mode_an_authenticated_viewer_may_introspect(
    staging: GraphQLClient, token: str
) -> None:
    data = await staging.data(SCHEMA_QUERY, token=token)
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_outside_dev_mode_anonymous_introspection_is_unauthenticated(
    staging: GraphQLClient,
) -> None:
    assert _codes(await staging.execute(TYPE_QUERY)) == ["UNAUTHENTICATED"]


async def test_disabled_introspection_is_refused_even_to_an_authenticated_viewer(
    production: GraphQLClient, token: str
) -> None:
    body = await production.execute(SCHEMA_QUERY, token=token)
    assert _codes(body) == ["INTROSPECTION_DISABLED"]


async def test_disabled_introspection_is_refused_every_time_and_under_an_alias(
    production: GraphQLClient, token: str
) -> None:
    aliased = "query Aliased { shape: __schema { queryType { name } } }"
    for _ in range(2):
        body = await production.execute(aliased, token=token)
        assert _codes(body) == ["INTROSPECTION_DISABLED"]


async def test_disabled_introspection_still_answers_typename(production: GraphQLClient) -> None:
    assert await production.data("{ __typename }") == {"__typename": "Query"}


async def test_disabled_introspection_hides_did_you_mean_suggestions(
    production: GraphQLClient, token: str
) -> None:
    body = await production.execute("{ engagementz { totalCount } }", token=token)
    assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_disabled_introspection_hides_suggestions_for_enum_variables(
    production: GraphQLClient, token: str
) -> None:
    body = await production.execute(
        "query($s: [EngagementStatus!]) { engagements(status: $s) { totalCount } }",
        {"s": ["ACTIV"]},
        token=token,
    )
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in body["errors"][0]["message"]
