"""Query safety (domain rules §4): every limit, just under it and just over it.

Each refusal happens before execution, with a clear message and a stable `extensions.code`;
the limits are the server's defaults (`Settings`), which the real client documents and the
standard introspection query pass with margin.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench import queries as bench_queries
from engagement_api.db.enums import Role
from engagement_api.settings import Settings
from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World

LIMITS = Settings()
CLIENT_DOCUMENTS = Path(__file__).resolve().parent.parent / "clients" / "documents"


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


@pytest.fixture
async def token(world: World) -> str:
    org = await world.organization("Limits")
    return (await world.user(org, Role.STAFF)).token


# Depth --------------------------------------------------------------------------------


def nested_document(depth: int) -> str:
    """`conversation { lastMessage { conversation { ... { id } } } }`, `depth` levels deep."""
    fields = ['conversation(id: "missing")']
    while len(fields) < depth:
        fields.append("lastMessage" if fields[-1] != "lastMessage" else "conversation")
    return "{ " + " { ".join(fields) + " { id }" + " }" * (len(fields) - 1) + " }"


async def test_query_at_the_depth_limit_executes(gql: GraphQLClient, token: str) -> None:
    body = await gql.execute(nested_document(LIMITS.max_query_depth), token=token)
    assert body == {"data": {"conversation": None}, "extensions": body["extensions"]}


async def test_query_one_level_deeper_than_the_limit_is_refused(
    gql: GraphQLClient, token: str
) -> None:
    body = await gql.execute(nested_document(LIMITS.max_query_depth + 1), token=token)
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert body.get("data") is None


# Aliases ------------------------------------------------------------------------------


def aliased_document(count: int) -> str:
    return "{ " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"


async def test_document_with_as_many_aliases_as_allowed_executes(gql: GraphQLClient) -> None:
    body = await gql.execute(aliased_document(LIMITS.max_aliases))
    assert len(body["data"]) == LIMITS.max_aliases


async def test_document_with_one_alias_too_many_is_refused(gql: GraphQLClient) -> None:
    body = await gql.execute(aliased_document(LIMITS.max_aliases + 1))
    assert codes(body) == ["TOO_MANY_ALIASES"]


# Directives ---------------------------------------------------------------------------


def directives_document(count: int) -> str:
    return "{ " + " ".join("__typename @include(if: true)" for _ in range(count)) + " }"


async def test_document_with_as_many_directives_as_allowed_executes(gql: GraphQLClient) -> None:
    body = await gql.execute(directives_document(LIMITS.max_directives))
    assert body["data"] == {"__typename": "Query"}


async def test_document_with_one_directive_too_many_is_refused(gql: GraphQLClient) -> None:
    body = await gql.execute(directives_document(LIMITS.max_directives + 1))
    assert codes(body) == ["TOO_MANY_DIRECTIVES"]


# Tokens -------------------------------------------------------------------------------


def tokens_document(count: int) -> str:
    """`{ nodes(ids: ["x" ...]) { id } }`: twelve tokens around `count - 12` strings."""
    return "{ nodes(ids: [" + ' "x"' * (count - 12) + "]) { id } }"


async def test_document_with_as_many_tokens_as_allowed_executes(
    gql: GraphQLClient, token: str
) -> None:
    body = await gql.execute(tokens_document(LIMITS.max_tokens), token=token)
    assert body["data"] == {"nodes": [None] * (LIMITS.max_tokens - 12)}


async def test_document_with_one_token_too_many_is_refused(gql: GraphQLClient, token: str) -> None:
    body = await gql.execute(tokens_document(LIMITS.max_tokens + 1), token=token)
    assert codes(body) == ["TOO_MANY_TOKENS"]


async def test_document_with_too_many_comments_is_refused(gql: GraphQLClient) -> None:
    body = await gql.execute("{ __typename }" + "\n#" * (LIMITS.max_tokens + 1))
    assert codes(body) == ["TOO_MANY_TOKENS"]


async def test_syntax_error_within_the_token_limit_is_a_parse_error(gql: GraphQLClient) -> None:
    body = await gql.execute("{ __typename ")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


# Query length -------------------------------------------------------------------------


def document_of_length(length: int) -> str:
    """`{__typename}` padded with a comment to exactly `length` characters."""
    head = "{__typename}\n#"
    return head + "x" * (length - len(head))


async def test_document_as_long_as_allowed_executes(gql: GraphQLClient) -> None:
    body = await gql.execute(document_of_length(LIMITS.max_query_length))
    assert body["data"] == {"__typename": "Query"}


async def test_document_one_character_too_long_is_refused(gql: GraphQLClient) -> None:
    body = await gql.execute(document_of_length(LIMITS.max_query_length + 1))
    assert codes(body) == ["QUERY_TOO_LONG"]


# Body size ----------------------------------------------------------------------------


def body_of_size(size: int) -> bytes:
    """A valid GraphQL-over-HTTP body of exactly `size` bytes (an unused variable pads it)."""
    empty = json.dumps({"query": "{__typename}", "variables": {"pad": ""}}).encode()
    return json.dumps(
        {"query": "{__typename}", "variables": {"pad": "x" * (size - len(empty))}}
    ).encode()


async def _post_body(http: httpx.AsyncClient, server: RunningServer, body: bytes) -> Any:
    return await http.post(
        server.graphql_url, content=body, headers={"content-type": "application/json"}
    )


async def test_body_as_large_as_allowed_is_served(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await _post_body(http, server, body_of_size(LIMITS.max_body_bytes))
    assert (response.status_code, response.json()["data"]) == (200, {"__typename": "Query"})


async def test_body_one_byte_too_large_is_refused_with_413(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await _post_body(http, server, body_of_size(LIMITS.max_body_bytes + 1))
    assert (response.status_code, codes(response.json())) == (413, ["BODY_TOO_LARGE"])


async def test_streamed_body_without_length_over_the_limit_is_refused_with_413(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    body = body_of_size(LIMITS.max_body_bytes + 1)

    async def chunks() -> Any:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    response = await http.post(
        server.graphql_url, content=chunks(), headers={"content-type": "application/json"}
    )
    assert (response.status_code, codes(response.json())) == (413, ["BODY_TOO_LARGE"])


# Cost ---------------------------------------------------------------------------------

COSTLY = """query Costly($ids: [ID!]!) {
  nodes(ids: $ids) { id }
  engagements(first: 100) { edges { node {
    conversations(first: %d) { edges { node {
      messages(first: 100) { edges { node { id } } } } } } } } }
}"""


def costly_request(cost: int) -> tuple[str, dict[str, Any]]:
    """A query of exactly `cost`: engagements(100) x conversations(b) x messages(100) costs
    100 * 3 * (1 + b + 100 b); each id given to `nodes` adds 1."""
    conversations = (cost // 300 - 1) // 101
    nested = 300 * (1 + conversations + 100 * conversations)
    return COSTLY % conversations, {"ids": ["missing"] * (cost - nested)}


async def test_operation_costing_exactly_the_limit_executes(gql: GraphQLClient, token: str) -> None:
    query, variables = costly_request(LIMITS.max_query_cost)
    body = await gql.execute(query, variables, token=token)
    assert "errors" not in body
    assert body["extensions"]["cost"] == {
        "requested": LIMITS.max_query_cost,
        "limit": LIMITS.max_query_cost,
    }


async def test_operation_costing_one_more_than_the_limit_is_refused(
    gql: GraphQLClient, token: str
) -> None:
    query, variables = costly_request(LIMITS.max_query_cost + 1)
    body = await gql.execute(query, variables, token=token)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body.get("data") is None


async def test_page_size_from_a_variable_or_its_default_counts_in_the_cost(
    gql: GraphQLClient, token: str
) -> None:
    query = "query($n: Int = 7) { engagements(first: $n) { edges { node { id } } } }"
    given = await gql.execute(query, {"n": 50}, token=token)
    defaulted = await gql.execute(query, token=token)
    absent = await gql.execute("{ engagements { edges { node { id } } } }", token=token)
    requested = [body["extensions"]["cost"]["requested"] for body in (given, defaulted, absent)]
    assert requested == [150, 21, 60]


async def test_every_response_reports_its_cost(gql: GraphQLClient) -> None:
    body = await gql.execute("{ __typename }")
    assert body["extensions"]["cost"] == {"requested": 0, "limit": LIMITS.max_query_cost}


async def test_out_of_range_page_size_is_still_a_bad_user_input_error(
    gql: GraphQLClient, token: str
) -> None:
    body = await gql.execute("{ engagements(first: 1000000) { totalCount } }", token=token)
    assert codes(body) == ["BAD_USER_INPUT"]


# The real documents pass with margin ---------------------------------------------------


def real_documents() -> dict[str, str]:
    documents = {path.name: path.read_text() for path in sorted(CLIENT_DOCUMENTS.glob("*"))}
    documents = {name: text for name, text in documents.items() if "subscription" not in text}
    names = ("DASHBOARD", "THREAD_NEWEST", "THREAD_OLDER", "THREAD_DEEP", "DETAIL")
    return documents | {f"bench {name}": getattr(bench_queries, name) for name in names}


@pytest.mark.parametrize("name", sorted(real_documents()))
async def test_real_client_document_costs_at_most_half_the_limit_and_passes_every_limit(
    gql: GraphQLClient, token: str, name: str
) -> None:
    body = await gql.execute(real_documents()[name], token=token)
    refused = {"QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "TOO_MANY_TOKENS", "QUERY_TOO_COMPLEX"}
    assert not refused & set(codes(body))
    assert 0 < 2 * body["extensions"]["cost"]["requested"] <= LIMITS.max_query_cost


async def test_standard_introspection_query_passes_every_limit(
    gql: GraphQLClient, token: str
) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    data = await gql.data(query, token=token)
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_websocket_message_over_the_body_limit_closes_the_connection(
    server: RunningServer,
) -> None:
    """Over WebSocket the same byte limit holds per message: close code 1009 (too big)."""
    url = server.graphql_url.replace("http://", "ws://")
    padding = "x" * (LIMITS.max_body_bytes + 1)
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"pad": padding}}))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
