"""Fuzzing the running server: schemathesis generates GraphQL operations from the
served schema (loaded by introspection from the server itself) and every one is sent as a
CLIENT and as a STAFF viewer. Whatever the input: no 5xx, every error has a known
`extensions.code`, nothing internal (SQL, traceback, driver names) reaches the client, and
no error is an unexpected one (a masked INTERNAL_SERVER_ERROR means a crash we must fix).

Bounded for the suite: `FUZZ_EXAMPLES` examples per operation (default 6), derandomized so
every run sends the same cases; raise it (and unset FUZZ_DERANDOMIZE) for a deeper run.
"""

import asyncio
import os
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
import requests
import schemathesis
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    print_ast,
)
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from engagement_api.db.enums import Role
from engagement_api.schema.schema import build_schema
from tests.conftest import RunningServer
from tests.factories import World
from tests.fuzz_transport import (
    CONTENT_TYPES,
    SUBSCRIPTION,
    bodies,
    headers,
    json_values,
    query_strings,
    ws_frames,
)
from tests.raw_http import GUARD_SECONDS, Answer, RawConnection
from tests.ws_client import errors_logged_since, uncoded_errors

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
DERANDOMIZE = os.environ.get("FUZZ_DERANDOMIZE", "1") != "0"

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "SERVICE_UNAVAILABLE",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "TOO_MANY_ALIASES",
    "TOO_MANY_DIRECTIVES",
    "TOO_MANY_TOKENS",
    "QUERY_TOO_LONG",
    "PERSISTED_QUERY_NOT_FOUND",
    "QUERY_TOO_LARGE",
    "OPERATION_NAME_REQUIRED",
    "BATCHING_NOT_SUPPORTED",
}
LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "asyncpg", "sqlalchemy", "psycopg")


@pytest.fixture(scope="module")
def graphql_schema(server: RunningServer) -> Any:
    return schemathesis.graphql.from_url(server.graphql_url, timeout=30)


@pytest.fixture(scope="module")
async def viewer_tokens(owner_engine: Any) -> dict[str, str]:
    world = World(owner_engine)
    org = await world.organization("Fuzz")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    await world.message(await world.conversation(engagement), staff)
    return {"CLIENT": client.token, "STAFF": staff.token}


def problems(response: requests.Response) -> list[str]:
    """What is wrong with one response, by the rules above (empty when it is fine)."""
    found = [f"status {response.status_code}"] if response.status_code >= 500 else []
    found += [f"leaks {leak!r}" for leak in LEAKS if leak in response.text]
    try:
        body = response.json()
    except ValueError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    for error in body.get("errors") or [] if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code not in KNOWN_CODES:
            found.append(f"error {code!r}: {error.get('message')!r}")
    return found


def has_data(response: requests.Response) -> bool:
    """Whether the answer carries `data`: some operation ran."""
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("data") is not None


def hostile_shapes(document: str) -> dict[str, Any]:
    """A generated operation in the shapes hostile traffic gives it: its selection behind a
    fragment spread twice, beside a second operation with no `operationName`, in a batch."""
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    root = "Mutation" if operation.operation == OperationType.MUTATION else "Query"
    spread = FragmentSpreadNode(name=NameNode(value="Generated"), directives=())
    fragment = FragmentDefinitionNode(
        name=NameNode(value="Generated"),
        type_condition=NamedTypeNode(name=NameNode(value=root)),
        directives=(),
        selection_set=operation.selection_set,
    )

    def rebuilt(name: NameNode | None, selection_set: SelectionSetNode) -> OperationDefinitionNode:
        return OperationDefinitionNode(
            operation=operation.operation,
            name=name,
            variable_definitions=operation.variable_definitions,
            directives=operation.directives,
            selection_set=selection_set,
        )

    spreading = rebuilt(operation.name, SelectionSetNode(selections=(spread, spread)))
    named = rebuilt(NameNode(value="Generated"), operation.selection_set)
    return {
        "behind a fragment spread twice": {
            "query": print_ast(DocumentNode(definitions=(spreading, fragment)))
        },
        "beside another operation": {"query": print_ast(named) + "\nquery Other { __typename }"},
        "in a batch": [{"query": document}],
    }


def root_field_labels() -> list[str]:
    """`Query.<field>` and `Mutation.<field>` of the served schema (built in process only to
    name the test cases; the operations themselves come from the server's introspection)."""
    served = build_schema()._schema
    roots = [served.query_type, served.mutation_type]
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


@pytest.mark.parametrize("label", root_field_labels())
def test_no_generated_operation_gets_a_5xx_or_an_unmasked_or_unknown_error(
    server: RunningServer, graphql_schema: Any, viewer_tokens: dict[str, str], label: str
) -> None:
    operation = graphql_schema.find_operation_by_label(label)
    found: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any) -> None:
        for role, token in viewer_tokens.items():
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            found.extend(f"{role} {problem}: {case.body}" for problem in problems(response))
        staff = {"Authorization": f"Bearer {viewer_tokens['STAFF']}"}
        for shape, body in hostile_shapes(case.body).items():
            response = requests.post(server.graphql_url, json=body, headers=staff, timeout=30)
            found.extend(f"{shape} {problem}: {body}" for problem in problems(response))
            if shape != "behind a fragment spread twice" and has_data(response):
                found.append(f"{shape} ran: {body}")

    since = server.log_offset()
    send()
    assert found + errors_logged_since(server, since) == []


# The transport itself: raw bodies, headers, query strings and WebSocket frames ----------

TRANSPORT_EXAMPLES = int(os.environ.get("FUZZ_TRANSPORT_EXAMPLES", "60"))
TRANSPORT_SETTINGS = settings(
    max_examples=TRANSPORT_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FRAMING_HEADERS = {
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "expect",
    "upgrade",
    "accept-encoding",
}
SOCKET_CLOSES = {1000, 4400, 4401, 4403, 4409, 4429}
"""Close codes of graphql-transport-ws (and a normal close); never 1006 or 1011."""


def answer_problems(answer: Answer) -> list[str]:
    found = [f"status {answer.status}"] if answer.status >= 500 else []
    content_type = answer.headers.get("content-type", "")
    if "json" not in content_type:
        return found if content_type.startswith("text/html") else [*found, content_type]
    body = orjson.loads(answer.body)
    if not isinstance(body, dict):
        return [*found, "not an object"]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not isinstance(code, str) or code == "INTERNAL_SERVER_ERROR":
            found.append(f"error {code!r}: {error.get('message')!r}")
    return found


async def exchange_then_reuse(
    url: str, method: str, target: str, body: bytes, head: dict[str, str]
) -> list[str]:
    """Sends one request; then, unless the answer closed the connection, a valid one on
    the same connection. The problems of both answers."""
    connection = await RawConnection.open(url)
    try:
        answer = await connection.request(method, target, body, head)
        found = answer_problems(answer)
        if answer.headers.get("connection") != "close":
            again = await connection.request(
                "POST",
                "/graphql",
                b'{"query": "{ __typename }"}',
                {"content-type": "application/json"},
            )
            if again.status != 200 or again.json().get("data") != {"__typename": "Query"}:
                found.append(
                    f"the connection no longer serves: {again.status} {again.body[:200]!r}"
                )
        return found
    finally:
        await connection.close()


def _plain(extra: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in extra.items() if name not in FRAMING_HEADERS}


@given(body=bodies(), content_type=CONTENT_TYPES, extra=headers())
@TRANSPORT_SETTINGS
def test_no_request_body_gets_a_5xx_or_breaks_the_connection(
    server: RunningServer, body: bytes, content_type: str, extra: dict[str, str]
) -> None:
    head = {**_plain(extra), "content-type": content_type}
    since = server.log_offset()
    found = asyncio.run(exchange_then_reuse(server.url, "POST", "/graphql", body, head))
    assert found + errors_logged_since(server, since) == [], (body[:300], head)


@given(params=query_strings, extra=headers())
@TRANSPORT_SETTINGS
def test_no_query_string_gets_a_5xx_or_breaks_the_connection(
    server: RunningServer, params: list[tuple[str, str]], extra: dict[str, str]
) -> None:
    target = "/graphql?" + urlencode(params)
    since = server.log_offset()
    found = asyncio.run(exchange_then_reuse(server.url, "GET", target, b"", _plain(extra)))
    assert found + errors_logged_since(server, since) == [], (target, extra)


async def frames_then_ping(url: str, frames: list[str | bytes]) -> list[str]:
    """Sends `frames` after the handshake, then a ping: the socket answers pong, or
    closes with a protocol close code. Problems: any other close, or an error without a
    code or with INTERNAL_SERVER_ERROR."""
    found: list[str] = []
    async with connect(
        url.replace("http://", "ws://"), subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        assert orjson.loads(await asyncio.wait_for(ws.recv(), GUARD_SECONDS))["type"] == (
            "connection_ack"
        )
        try:
            for frame in frames:
                await ws.send(frame)
            await ws.send('{"type": "ping"}')
            while True:
                received = orjson.loads(await asyncio.wait_for(ws.recv(), GUARD_SECONDS))
                if received.get("type") == "pong":
                    return found
                found += uncoded_errors(received)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if code not in SOCKET_CLOSES:
                found.append(f"closed with {code}")
    return found


@given(frames=st.lists(ws_frames(), min_size=1, max_size=3))
@example(frames=['{"type": "complete", "id": []}'])  # an id that cannot be looked up
@example(frames=['{"type": "complete", "id": {"a": 1}}'])
@example(frames=['{"type": "%s"}' % ("é" * 100)])  # quoted in a close reason past 123 bytes
@TRANSPORT_SETTINGS
def test_no_websocket_message_drops_the_socket_or_crashes(
    server: RunningServer, frames: list[str | bytes]
) -> None:
    since = server.log_offset()
    found = asyncio.run(frames_then_ping(server.graphql_url, frames))
    assert found + errors_logged_since(server, since) == [], frames


@given(variables=st.dictionaries(st.sampled_from(["v", "x"]), json_values, max_size=2))
@TRANSPORT_SETTINGS
def test_every_refusal_of_a_subscriptions_variables_has_a_code(
    server: RunningServer, variables: dict[str, Any]
) -> None:
    """Variables of any type for a subscription's `ID!` and `String`: refused as over HTTP,
    with a code, and the socket still serves."""
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": variables},
    }
    since = server.log_offset()
    found = asyncio.run(frames_then_ping(server.graphql_url, [orjson.dumps(subscribe).decode()]))
    assert found + errors_logged_since(server, since) == [], variables
