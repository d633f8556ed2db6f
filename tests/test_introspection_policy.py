"""Introspection policy (domain rules §4): open in dev mode, open to authenticated viewers
outside it, and off entirely (with did-you-mean suggestions hidden) when the setting says so.
"""

from collections.abc import Iterator

import pytest

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World
from tests.live_feed import thread
from tests.ws_client import (
    MESSAGE_EVENTS,
    GraphQLWebSocket,
    subscriptions_started,
    wait_until_subscribed,
)

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


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ engagementz { totalCount } }", None),
        (
            "query($s: [EngagementStatus!]) { engagements(status: $s) { totalCount } }",
            {"s": ["ACTIV"]},
        ),
    ],
)
async def test_outside_dev_mode_only_an_authenticated_viewer_is_told_what_it_may_have_meant(
    staging: GraphQLClient, token: str, query: str, variables: dict[str, object] | None
) -> None:
    """Suggestions name the schema's fields and values: whoever may not introspect may not
    read them either."""
    anonymous = await staging.execute(query, variables)
    authenticated = await staging.execute(query, variables, token=token)
    assert _codes(anonymous) == _codes(authenticated)
    assert "Did you mean" not in anonymous["errors"][0]["message"]
    assert "Did you mean" in authenticated["errors"][0]["message"]


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


@pytest.fixture(scope="module")
def one_connection_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """Outside dev mode, with a pool of one database connection that it waits 1 s for."""
    yield from own_server(
        database_url,
        tmp_path_factory,
        "one-connection",
        INTROSPECTION="true",
        ANONYMOUS_INTROSPECTION="false",
        DB_POOL_SIZE="1",
        DB_POOL_MAX_OVERFLOW="0",
        DB_POOL_TIMEOUT_SECONDS="1",
    )


@pytest.mark.parametrize(
    "mention",
    ["", "# __schema", '# __type(name: "Message")'],
    ids=["plain", "schema-in-a-comment", "type-in-a-comment"],
)
async def test_a_subscription_whose_text_names_introspection_holds_no_connection(
    world: World, gql: GraphQLClient, one_connection_server: RunningServer, mention: str
) -> None:
    """The policy checks the viewer of a subscribe that mentions `__schema` or `__type`;
    on a WebSocket that check must not keep a transaction open for the socket's life:
    the server's one connection stays free for every other request."""
    feed = await thread(world)
    server = GraphQLClient(gql.http, one_connection_server.graphql_url)
    started = await subscriptions_started(one_connection_server.url)
    async with GraphQLWebSocket.open(
        one_connection_server.graphql_url, token=feed.staff.token
    ) as ws:
        await ws.subscribe(f"{MESSAGE_EVENTS}\n{mention}", {"id": feed.conversation.gid})
        await wait_until_subscribed(one_connection_server.url, started + 1)
        data = await server.data("{ viewer { user { id } } }", token=feed.client.token)
        assert data == {"viewer": {"user": {"id": feed.client.gid}}}
