"""Hostile and broken traffic against the real server: every request, socket or frame an
attacker or an unlucky network can send is answered in bounded time with a 4xx or a coded
GraphQL error (never a 500, a dropped socket or a hung worker), and the same keep-alive
connection keeps working after it (docs/security.md, "Hostile traffic").

Every wait is bounded (client timeouts, `GUARD_SECONDS`): a regression fails a test, it does
not hang the run.
"""

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import orjson
import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from uvicorn.protocols.http.h11_impl import H11Protocol
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from engagement_api.auth import mint_token
from engagement_api.cli.tokens import print_token
from engagement_api.db.enums import Role
from engagement_api.db.models import Message
from engagement_api.fastpath.uvicorn_headers import MAX_PIPELINED, HeaderLimitedProtocol
from engagement_api.fastpath.versions import UVICORN_HEADER_LIMITS
from engagement_api.http.errors import MAX_VARIABLE_VALUES, MAX_VARIABLES_DEPTH, json_shape
from engagement_api.http.protocol import http_options
from engagement_api.settings import Settings
from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World
from tests.live_feed import servers, thread
from tests.mutations import count_where
from tests.raw_http import GUARD_SECONDS, RawConnection
from tests.ws_client import GraphQLWebSocket

LIMITS = Settings()
LIMITS_LIFETIME = timedelta(seconds=LIMITS.jwt_max_lifetime_seconds)
JSON = {"content-type": "application/json"}
VALID = orjson.dumps({"query": "{ __typename }"})
METRICS_TOKEN = "metrics-scrape-token"


STRICT_CONNECTIONS = 8


@pytest.fixture(scope="module")
def strict(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with short read timeouts, a metrics token and a small subscription cap."""
    environment = {
        "HTTP_BODY_TIMEOUT_SECONDS": "1",
        "HTTP_HEADER_TIMEOUT_SECONDS": "1",
        "METRICS_TOKEN": METRICS_TOKEN,
        "MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
        "HTTP_MAX_CONNECTIONS": str(STRICT_CONNECTIONS),
        "HTTP_SEND_TIMEOUT_SECONDS": "1",
    }
    with servers(database_url, tmp_path_factory.mktemp("strict"), 1, **environment) as running:
        yield running[0]


async def still_serves(connection: RawConnection) -> None:
    """The same keep-alive connection answers a valid request after a refusal."""
    answer = await connection.request("POST", "/graphql", VALID, JSON)
    assert (answer.status, answer.json()["data"]) == (200, {"__typename": "Query"})


# 1. One small document whose fragments expand exponentially ---------------------------


def exploding_document(fragments: int) -> str:
    """`fragments` fragments on Query, each spreading the next one twice: 2^n fields."""
    parts = ["query Explode { ...F0 }"]
    for index in range(fragments):
        inner = f"...F{index + 1} ...F{index + 1}" if index + 1 < fragments else "__typename"
        parts.append(f"fragment F{index} on Query {{ {inner} }}")
    return "\n".join(parts)


async def test_exponential_fragment_expansion_is_refused_at_once_and_healthz_stays_up(
    server: RunningServer,
) -> None:
    document = exploding_document(41)
    assert len(document) < 2_000
    async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
        heavy = asyncio.create_task(http.post(server.graphql_url, json={"query": document}))
        health = await http.get(f"{server.url}/healthz")
        response = await heavy
    assert health.status_code == 200
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [
        "QUERY_TOO_LARGE"
    ]


async def test_fragment_cycle_is_refused_with_its_code(gql: GraphQLClient) -> None:
    document = """query Cycle { ...A }
    fragment A on Query { __typename ...B }
    fragment B on Query { __typename ...A }"""
    body = await gql.execute(document)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FRAGMENT_CYCLE"]


# 2. Stalled bodies and headers -------------------------------------------------------


async def test_stalled_bodies_hold_no_execution_slot(server: RunningServer) -> None:
    stalled = [
        await RawConnection.open(server.url) for _ in range(LIMITS.http_slots_per_worker + 1)
    ]
    try:
        for connection in stalled:  # headers promise 100 bytes that never come
            await connection.send_raw(
                b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"content-length: 100\r\n\r\n"
            )
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
            response = await http.post(server.graphql_url, json={"query": "{ __typename }"})
        assert response.json()["data"] == {"__typename": "Query"}
    finally:
        for connection in stalled:
            await connection.close()


async def test_a_stalled_body_is_answered_408_in_json(strict: RunningServer) -> None:
    connection = await RawConnection.open(strict.url)
    try:
        await connection.send_raw(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n{"
        )
        answer = await connection.answer()
    finally:
        await connection.close()
    assert (answer.status, answer.codes()) == (408, ["BODY_TIMEOUT"])


async def test_stalled_headers_are_answered_408_and_the_connection_closed(
    strict: RunningServer,
) -> None:
    connection = await RawConnection.open(strict.url)
    try:
        await connection.send_raw(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")  # and nothing more
        answer = await connection.answer()
    finally:
        await connection.close()
    assert (answer.status, answer.codes()) == (408, ["HEADER_TIMEOUT"])


async def test_the_first_requests_headers_are_timed_from_the_connection(
    strict: RunningServer,
) -> None:
    """A client that connects and waits does not get the header time twice by sending a
    first byte late."""
    connection = await RawConnection.open(strict.url)
    opened = time.monotonic()
    try:
        await asyncio.sleep(0.8)
        await connection.send_raw(b"G")
        answer = await connection.answer()
        answered = time.monotonic() - opened
    finally:
        await connection.close()
    assert (answer.status, answer.codes()) == (408, ["HEADER_TIMEOUT"])
    assert answered < 1.6  # one timeout of 1 s; it was 1.8 s


# 5. Bodies that are not GraphQL requests ---------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000

BAD_BODIES = {
    "null": (b"null", "BAD_REQUEST"),
    "number": (b"5", "BAD_REQUEST"),
    "string": (b'"str"', "BAD_REQUEST"),
    "invalid UTF-8": (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "MALFORMED_JSON"),
    "100,000-deep arrays": (DEEP, "MALFORMED_JSON"),
    "truncated": (b'{"query": ', "MALFORMED_JSON"),
    "lone surrogate in operationName": (
        b'{"query": "query A { __typename }", "operationName": "\\ud800"}',
        "MALFORMED_JSON",
    ),
    "lone surrogate in a variable": (
        b'{"query": "query A($s: String) { __typename }", "variables": {"s": "\\udfff"}}',
        "MALFORMED_JSON",
    ),
    "operationName a number": (b'{"query": "{ __typename }", "operationName": 5}', "BAD_REQUEST"),
    "query a number": (b'{"query": 5}', "BAD_REQUEST"),
    "variables a list": (b'{"query": "{ __typename }", "variables": [1]}', "BAD_REQUEST"),
    "variables nested 500 deep": (
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 500 + b"]" * 500 + b"}}",
        "BAD_REQUEST",
    ),
    "batch": (b'[{"query": "{ __typename }"}]', "BATCHING_NOT_SUPPORTED"),
    "variables holding one value too many": (
        orjson.dumps(
            {"query": "{ __typename }", "variables": {"v": [{"k": 0}] * (MAX_VARIABLE_VALUES // 2)}}
        ),
        "BAD_REQUEST",
    ),
    "extensions holding one value too many": (
        orjson.dumps({"query": "{ __typename }", "extensions": {"v": [0] * MAX_VARIABLE_VALUES}}),
        "BAD_REQUEST",
    ),
}


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_reference_depth(item) for item in value), default=0)
    return 0


def _reference_values(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return len(value) + sum(_reference_values(item) for item in value)
    return 0


json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


@given(
    tree=json_trees,
    wrapped=st.integers(0, MAX_VARIABLES_DEPTH + 3),
    in_object=st.booleans(),
    widened=st.sampled_from([0, 1, MAX_VARIABLE_VALUES // 8, MAX_VARIABLE_VALUES // 4]),
)
def test_the_nesting_and_size_of_variables_are_what_a_plain_recursive_walk_finds(
    tree: object, wrapped: int, in_object: bool, widened: int
) -> None:
    """Up to each limit exactly, and over it whenever the value is (where it may stop)."""
    tree = [tree] * (widened + 1)  # the same subtree again: the values counted as often
    for _ in range(wrapped):
        tree = {"k": tree} if in_object else [tree]
    depth, values = _reference_depth(tree), _reference_values(tree)
    if depth <= MAX_VARIABLES_DEPTH and values <= MAX_VARIABLE_VALUES:
        assert json_shape(tree) == (depth, values)
    else:
        found_depth, found_values = json_shape(tree)
        assert found_depth > MAX_VARIABLES_DEPTH or found_values > MAX_VARIABLE_VALUES


async def test_variables_of_exactly_the_most_values_are_served(server: RunningServer) -> None:
    variables = {"v": [{"k": 0}] * (MAX_VARIABLE_VALUES // 2 - 1), "w": 0}
    assert json_shape(variables) == (3, MAX_VARIABLE_VALUES)
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post(
            "/graphql", json={"query": "{ __typename }", "variables": variables}
        )
    assert (answer.status_code, answer.json()["data"]) == (200, {"__typename": "Query"})


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_bad_body_gets_a_coded_400_and_the_connection_keeps_working(
    server: RunningServer, name: str
) -> None:
    body, code = BAD_BODIES[name]
    connection = await RawConnection.open(server.url)
    try:
        answer = await connection.request("POST", "/graphql", body, JSON)
        assert (answer.status, answer.codes()) == (400, [code])
        await still_serves(connection)
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("content_type", "named"), [("text/plain", "'text/plain'"), ("", "No content type")]
)
async def test_unsupported_content_type_gets_415_naming_the_accepted_type(
    server: RunningServer, content_type: str, named: str
) -> None:
    connection = await RawConnection.open(server.url)
    try:
        answer = await connection.request(
            "POST", "/graphql", b"query { __typename }", {"content-type": content_type}
        )
        assert (answer.status, answer.codes()) == (415, ["UNSUPPORTED_MEDIA_TYPE"])
        assert answer.headers["accept-post"] == "application/json"
        message = answer.json()["errors"][0]["message"]
        assert "application/json" in message
        assert named in message
        await still_serves(connection)
    finally:
        await connection.close()


async def test_mutation_over_get_gets_405_with_its_code(server: RunningServer) -> None:
    connection = await RawConnection.open(server.url)
    try:
        answer = await connection.request(
            "GET", "/graphql?query=mutation%20M%20%7B%20__typename%20%7D", headers=JSON
        )
        assert (answer.status, answer.codes()) == (405, ["METHOD_NOT_ALLOWED"])
        assert answer.headers["allow"] == "POST"
        await still_serves(connection)
    finally:
        await connection.close()


async def test_method_the_endpoint_does_not_take_gets_a_coded_405(server: RunningServer) -> None:
    connection = await RawConnection.open(server.url)
    try:
        answer = await connection.request("PUT", "/graphql", VALID, JSON)
        assert (answer.status, answer.codes()) == (405, ["METHOD_NOT_ALLOWED"])
        await still_serves(connection)
    finally:
        await connection.close()


@pytest.mark.parametrize("path", ["/graphql?query=%7B%20__typename%20%7D", "/graphql", "/healthz"])
async def test_every_method_a_405_names_is_served_and_head_answers_as_get(
    server: RunningServer, path: str
) -> None:
    connection = await RawConnection.open(server.url)
    try:
        refused = await connection.request("PUT", path, VALID, JSON)
        allowed = [method.strip() for method in refused.headers["allow"].split(",")]
        assert refused.status == 405
        assert "HEAD" in allowed
        answers = {
            method: await connection.request(method, path, VALID if method == "POST" else b"", JSON)
            for method in allowed
        }
        assert [m for m, answer in answers.items() if answer.status == 405] == []
        get, head = answers["GET"], answers["HEAD"]
        assert (head.status, head.headers["content-type"], head.body) == (
            get.status,
            get.headers["content-type"],
            b"",
        )
        await still_serves(connection)
    finally:
        await connection.close()


async def test_a_client_leaving_mid_body_costs_no_error_in_the_log(server: RunningServer) -> None:
    logged = server.log_offset()
    connection = await RawConnection.open(server.url)
    await connection.send_raw(
        b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b'content-length: 500\r\n\r\n{"query": "{ __typename }"'
    )
    connection.writer.write_eof()
    with contextlib.suppress(ConnectionError):
        await connection.answer()
    await connection.close()
    again = await RawConnection.open(server.url)
    try:
        await still_serves(again)
    finally:
        await again.close()
    await asyncio.sleep(0.2)  # the server's handling of the first connection has ended
    assert "Traceback" not in server.logs_since(logged)


async def test_request_without_a_query_gets_a_coded_400(server: RunningServer) -> None:
    """A persisted-query extension that is not an object leaves no document to run."""
    connection = await RawConnection.open(server.url)
    try:
        body = orjson.dumps({"extensions": {"persistedQuery": "not-an-object"}})
        answer = await connection.request("POST", "/graphql", body, JSON)
        assert (answer.status, answer.codes()) == (400, ["BAD_REQUEST"])
        await still_serves(connection)
    finally:
        await connection.close()


# 6. Malformed graphql-transport-ws frames --------------------------------------------

BAD_FRAMES: dict[str, Any] = {
    "payload a string": "query",
    "payload null": None,
    "payload a list": [],
    "payload a number": 5,
    "query a number": {"query": 5},
    "query null": {"query": None},
    "operationName a number": {"query": "subscription { __typename }", "operationName": 5},
    "variables a list": {"query": "subscription { __typename }", "variables": []},
    "extensions a string": {"query": "subscription { __typename }", "extensions": "x"},
    "variables nested 65 deep": {
        "query": "subscription { __typename }",
        "variables": {"v": orjson.loads(b"[" * MAX_VARIABLES_DEPTH + b"]" * MAX_VARIABLES_DEPTH)},
    },
    "variables holding one value too many": {
        "query": "subscription { __typename }",
        "variables": {"v": [0] * MAX_VARIABLE_VALUES},
    },
}


async def close_of(url: str, *frames: Any) -> tuple[int | None, str]:
    """The close code and reason after sending `frames` on an acknowledged connection."""
    async with connect(
        url.replace("http://", "ws://"), subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        assert orjson.loads(await asyncio.wait_for(ws.recv(), GUARD_SECONDS))["type"] == (
            "connection_ack"
        )
        for frame in frames:
            await ws.send(orjson.dumps(frame).decode())
        try:
            async with asyncio.timeout(GUARD_SECONDS):  # a stream of frames must end too
                while True:
                    await ws.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, "")


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_malformed_subscribe_frame_closes_with_4400_and_a_reason(
    server: RunningServer, name: str
) -> None:
    frame = {"id": "1", "type": "subscribe", "payload": BAD_FRAMES[name]}
    code, reason = await close_of(server.graphql_url, frame)
    assert code == 4400
    assert reason


@pytest.mark.parametrize("frame", [[1], "text", 5, {"type": 5}, {"type": "subscribe", "id": 1}])
async def test_message_that_is_not_a_protocol_object_closes_with_4400(
    server: RunningServer, frame: Any
) -> None:
    code, reason = await close_of(server.graphql_url, frame)
    assert (code, bool(reason)) == (4400, True)


async def test_subscription_limit_error_has_a_code(world: World, strict: RunningServer) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(strict.graphql_url, token=feed.staff.token) as ws:
        await ws.feed(feed.conversation.gid)
        await ws.feed(feed.conversation.gid)
        refusal = await ws.next(await ws.feed(feed.conversation.gid))
    assert refusal["type"] == "error"
    assert refusal["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_REACHED"


# 7, 8. Which operation runs -----------------------------------------------------------


async def test_subscription_over_http_is_refused_with_its_code(server: RunningServer) -> None:
    async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
        response = await http.post(
            server.graphql_url,
            json={"query": 'subscription S { messageEvents(conversationId: "x") { kind } }'},
            headers={"accept": "application/graphql-response+json"},
        )
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [
        "SUBSCRIPTION_OVER_HTTP"
    ]


POST_THEN_READ = """mutation Post($input: PostMessageInput!) {
  postMessage(input: $input) { message { id } errors { code } }
}
query Read { __typename }"""


async def test_two_operations_without_a_name_run_neither(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    feed = await thread(world)
    variables = {"input": {"conversationId": feed.conversation.gid, "content": "twice?"}}
    body = await gql.execute(POST_THEN_READ, variables, token=feed.staff.token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["OPERATION_NAME_REQUIRED"]
    assert body.get("data") is None
    written = await count_where(
        owner_engine, Message, Message.conversation_id == feed.conversation.id
    )
    assert written == 0


async def test_an_operation_name_the_document_lacks_is_refused_with_its_code(
    gql: GraphQLClient,
) -> None:
    response = await gql.http.post(
        gql.url, json={"query": "query A { __typename }", "operationName": "B"}
    )
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["OPERATION_NOT_FOUND"]


async def test_the_named_operation_of_several_runs(gql: GraphQLClient) -> None:
    response = await gql.http.post(
        gql.url,
        json={"query": "query A { a: __typename } query B { b: __typename }", "operationName": "B"},
    )
    assert response.json()["data"] == {"b": "Query"}


async def test_ambiguous_subscribe_frame_gets_a_coded_error(
    world: World, server: RunningServer
) -> None:
    feed = await thread(world)
    document = "subscription A { __typename } subscription B { __typename }"
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        answer = await ws.next(await ws.subscribe(document, {}))
    assert answer["type"] == "error"
    assert answer["payload"][0]["extensions"]["code"] == "OPERATION_NAME_REQUIRED"


# 9. Header size ------------------------------------------------------------------------


async def test_oversized_headers_get_431_without_being_read(server: RunningServer) -> None:
    connection = await RawConnection.open(server.url)
    try:
        huge = "Bearer " + "a" * (4 * 1024 * 1024)
        started = time.monotonic()
        await connection.send_raw(
            f"POST /graphql HTTP/1.1\r\nhost: x\r\nauthorization: {huge}\r\n".encode()
        )
        answer = await connection.answer()
    except (ConnectionResetError, BrokenPipeError) as error:
        pytest.fail(f"no answer: {error}")
    finally:
        await connection.close()
    assert (answer.status, answer.codes()) == (431, ["HEADER_TOO_LARGE"])
    assert time.monotonic() - started < GUARD_SECONDS
    async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
        assert (await http.get(f"{server.url}/healthz")).status_code == 200


async def test_oversized_headers_that_arrive_whole_in_one_read_get_431(
    server: RunningServer,
) -> None:
    request = f"GET /healthz HTTP/1.1\r\nhost: x\r\nx-padding: {'x' * 40_000}\r\n\r\n"
    connection = await RawConnection.open(server.url)
    try:
        await connection.send_raw(request.encode())
        answer = await connection.answer("GET")
    finally:
        await connection.close()
    assert (answer.status, answer.codes()) == (431, ["HEADER_TOO_LARGE"])


async def test_a_pipelined_request_after_a_large_body_is_answered_in_order(
    server: RunningServer,
) -> None:
    """The header limit counts the headers of each request only: not the previous
    request's body that arrived in the same read as the next request's first bytes."""
    padding = "x" * (3 * 32 * 1024)  # three times the default header limit
    body = orjson.dumps({"query": "{ __typename }", "extensions": {"padding": padding}})
    first = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    first += f"content-length: {len(body)}\r\n\r\n"
    second = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
    connection = await RawConnection.open(server.url)
    try:
        await connection.send_raw(first.encode() + body + second[:20])
        await asyncio.sleep(0.3)
        await connection.send_raw(second[20:])
        answers = [await connection.answer("POST"), await connection.answer("GET")]
    finally:
        await connection.close()
    assert [answer.status for answer in answers] == [200, 200]
    assert answers[0].json()["data"] == {"__typename": "Query"}
    assert answers[1].json()["status"] == "ok"


async def test_oversized_headers_of_a_pipelined_request_are_refused_after_the_answer_before(
    server: RunningServer,
) -> None:
    """Answers keep the order of their requests, a refusal included."""
    first = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
    second = f"GET /healthz HTTP/1.1\r\nhost: x\r\nx-padding: {'x' * 40_000}\r\n\r\n"
    connection = await RawConnection.open(server.url)
    try:
        await connection.send_raw(first + second.encode())
        answers = [await connection.answer("GET"), await connection.answer("GET")]
    finally:
        await connection.close()
    assert [answer.status for answer in answers] == [200, 431]
    assert answers[1].codes() == ["HEADER_TOO_LARGE"]


def _get(padding: int = 0, upgrade: bool = False) -> bytes:
    head = "GET /healthz HTTP/1.1\r\nhost: x\r\n"
    if padding:
        head += f"x-padding: {'x' * padding}\r\n"
    if upgrade:
        head += "upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\n"
        head += "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    return (head + "\r\n").encode()


CHUNKED_ONE_BYTE_AT_A_TIME = (
    b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
    + b"".join(b"1\r\n" + bytes([byte]) + b"\r\n" for byte in b'{"query": "{ __typename }"}')
    + b"0\r\n\r\n"
)


@pytest.mark.parametrize(
    ("reads", "statuses"),
    [
        ([_get(20_000) + _get(14_000)[:13_000], _get(14_000)[13_000:]], [200, 200]),
        ([_get(3_000) * 12 + _get(3_000)[:1_500], _get(3_000)[1_500:]], [200] * 13),
        ([CHUNKED_ONE_BYTE_AT_A_TIME * 3 + _get(30_000)[:100], _get(30_000)[100:]], [200] * 4),
        ([_get() + _get() + _get(40_000)], [200, 200, 431]),
        ([_get() + _get(40_000, upgrade=True)], [200, 431]),
        ([_get(40_000) + b"BLAH\r\n\r\n"], [431]),
    ],
    ids=[
        "after-large-headers",
        "after-many",
        "after-chunked",
        "refused-after-two",
        "oversized-upgrade",
        "then-noise",
    ],
)
async def test_pipelined_requests_are_measured_and_answered_each_on_its_own(
    server: RunningServer, reads: list[bytes], statuses: list[int]
) -> None:
    """Each request's headers are measured alone, whatever came before them in the same
    read; a refusal comes after the answers before it, and is the only answer to its
    request and to anything after it (an upgrade, noise)."""
    connection = await RawConnection.open(server.url)
    try:
        for read in reads:
            await connection.send_raw(read)
            await asyncio.sleep(0.2)
        answers = [await connection.answer() for _ in statuses]
        with contextlib.suppress(ConnectionError, TimeoutError):  # closed, or open and silent
            extra = await asyncio.wait_for(connection.reader.read(1), 1)
            assert extra == b""
    finally:
        await connection.close()
    assert [answer.status for answer in answers] == statuses
    assert "Fatal error" not in server.logs()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"FOO /graphql HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /graphql HTTP/9.9\r\nhost: x\r\n\r\n",
        b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: -5\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello on the plain port
    ],
    ids=["unknown-method", "unknown-version", "negative-length", "tls"],
)
async def test_bytes_that_are_no_http_request_get_a_coded_json_400_after_earlier_answers(
    server: RunningServer, request_bytes: bytes
) -> None:
    connection = await RawConnection.open(server.url)
    try:
        await connection.send_raw(_get() + request_bytes)
        first, refused = await connection.answer(), await connection.answer()
    finally:
        await connection.close()
    assert first.status == 200
    assert (refused.status, refused.codes()) == (400, ["BAD_REQUEST"])


TRAILED = b'{"query": "{ __typename }"}'


def _chunked_post_then_trailer(trailer: bytes) -> bytes:
    head = b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    head += b"transfer-encoding: chunked\r\n\r\n"
    return head + f"{len(TRAILED):x}\r\n".encode() + TRAILED + b"\r\n0\r\n" + trailer


@pytest.mark.parametrize(
    ("before", "trailers", "answers"),
    [
        (b"", [b"x-trailer: " + b"t" * 1_000 + b"\r\n"] * 200, 0),
        (b"", [b"x-trailer: "] + [b"t" * 1_000] * 200, 0),
        (_get(), [b"x-trailer: "] + [b"t" * 1_000] * 200, 1),
    ],
    ids=["many-lines", "one-endless-value", "behind-a-get"],
)
async def test_trailers_beyond_the_header_limit_end_their_request(
    server: RunningServer, before: bytes, trailers: list[bytes], answers: int
) -> None:
    """Trailers are headers too: a chunked request cannot hold a worker's memory with
    them (one such request took a worker to 2 GB). Its request ends unanswered, and the
    connection closes, after the answers to the requests before it."""
    connection = await RawConnection.open(server.url)
    statuses = []
    try:
        await connection.send_raw(before + _chunked_post_then_trailer(trailers[0]))
        with contextlib.suppress(ConnectionError):
            for trailer in trailers[1:]:
                await connection.send_raw(trailer)
        statuses = [(await connection.answer()).status for _ in range(answers)]
        rest = await asyncio.wait_for(connection.reader.read(), GUARD_SECONDS)
    except ConnectionError:
        rest = b""
    finally:
        await connection.close()
    assert statuses == [200] * answers
    assert rest == b""
    async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
        assert (await http.get(f"{server.url}/healthz")).status_code == 200


async def test_requests_pipelined_far_ahead_of_their_answers_are_not_queued(
    server: RunningServer,
) -> None:
    """Thousands of small requests in one read are not all parsed and queued (a few
    connections doing so took a worker past a gigabyte): those over the bound go
    unanswered and the connection closes after the answers to the others."""
    connection = await RawConnection.open(server.url)
    answers = []
    try:
        await connection.send_raw(_get() * 4_000)
        with contextlib.suppress(ConnectionError):  # closed after the answers
            while True:
                answer = await asyncio.wait_for(connection.answer(), 5)
                answers.append(answer.status)
    finally:
        await connection.close()
    assert set(answers) == {200}
    assert MAX_PIPELINED <= len(answers) <= MAX_PIPELINED + 2


async def test_a_chunked_body_of_one_byte_chunks_with_padded_sizes_is_answered(
    server: RunningServer,
) -> None:
    """Chunk framing may outweigh the body many times (zero-padded sizes): it is no
    trailer, and the request is answered however it is split into reads."""
    body = orjson.dumps({"query": "{ __typename }", "extensions": {"padding": "p" * 20_000}})
    head = b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    head += b"transfer-encoding: chunked\r\n\r\n"
    chunks = b"".join(b"00000001\r\n" + bytes([byte]) + b"\r\n" for byte in body)
    request = head + chunks + b"0\r\n\r\n"
    connection = await RawConnection.open(server.url)
    try:
        for start in range(0, len(request), 1_000):
            await connection.send_raw(request[start : start + 1_000])
            await asyncio.sleep(0.001)
        answer = await connection.answer("POST")
    finally:
        await connection.close()
    assert answer.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("version", ["0.55.0", "0.56.0"])
def test_the_header_limits_run_on_their_uvicorn_and_h11_with_a_size_limit_otherwise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, version: str
) -> None:
    """The httptools subclass reaches into Uvicorn: any other version gets h11, and says so."""
    monkeypatch.setattr(uvicorn, "__version__", version)

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    config = uvicorn.Config(app, **http_options(8192))
    config.load()
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    if version.startswith(UVICORN_HEADER_LIMITS):
        assert config.http_protocol_class is HeaderLimitedProtocol
        assert warnings == []
    else:
        assert config.http_protocol_class is H11Protocol
        assert config.h11_max_incomplete_event_size == 8192
        assert [w for w in warnings if f"uvicorn {version} installed" in w]


# 10. Metrics ---------------------------------------------------------------------------


DISTINCT_NAMES = 5_000
IN_FLIGHT = 8
"""Within what a worker runs and queues: every request is answered, none refused as busy."""


def operation_name_labels(scraped: str) -> set[str]:
    """Every `operation_name` label value of a Prometheus text exposition."""
    return {
        sample.labels["operation_name"]
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if "operation_name" in sample.labels
    }


async def test_metrics_labels_stay_bounded_whatever_the_operation_names(
    server: RunningServer,
) -> None:
    """Thousands of distinct operation names (clients choose them) add no label value and
    leave the exposition's size as it was, give or take its counters' digits."""
    names = [f"Probe{uuid.uuid4().hex}" for _ in range(DISTINCT_NAMES)]
    slots = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(timeout=GUARD_SECONDS, limits=limits) as http:

        async def send(name: str) -> int:
            async with slots:
                document = f"query {name} {{ __typename }}"
                return (await http.post(server.graphql_url, json={"query": document})).status_code

        first = await send(names[0])  # the series of unlisted names exist from here on
        before = (await http.get(f"{server.url}/metrics")).text
        statuses = await asyncio.wait_for(
            asyncio.gather(*(send(name) for name in names[1:])), GUARD_SECONDS * 6
        )
        after = (await http.get(f"{server.url}/metrics")).text
    assert set(statuses) | {first} == {200}
    assert "other" in operation_name_labels(before)
    assert operation_name_labels(after) <= operation_name_labels(before)
    assert not any(name in after for name in names)
    assert len(after) < len(before) + 4_096


async def test_metrics_need_the_token_when_one_is_set(strict: RunningServer) -> None:
    async with httpx.AsyncClient(timeout=GUARD_SECONDS) as http:
        anonymous = await http.get(f"{strict.url}/metrics")
        wrong = await http.get(f"{strict.url}/metrics", headers={"authorization": "Bearer x"})
        right = await http.get(
            f"{strict.url}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}
        )
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert right.status_code == 200
    assert "graphql_operation_duration_seconds" in right.text


# 11. Error messages quote bounded input -------------------------------------------------


async def test_a_huge_cursor_is_not_echoed_back(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    document = "query Page($after: String) { engagements(first: 1, after: $after) { totalCount } }"
    body = await gql.execute(document, {"after": "x" * 300_000}, token=staff.token)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(error["message"]) < 1_000


async def test_an_invalid_huge_variable_is_not_echoed_back(gql: GraphQLClient) -> None:
    document = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    body = await gql.execute(document, {"ids": {"not": "a list", "pad": "y" * 300_000}})
    assert body["errors"]
    assert all(len(error["message"]) < 1_100 for error in body["errors"])


# 12. Token lifetime -----------------------------------------------------------------------


async def test_a_token_living_beyond_the_maximum_is_refused(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    now = int(time.time())
    forever = jwt.encode(
        {"sub": str(staff.id), "iat": now, "exp": 10**30}, LIMITS.jwt_secret, algorithm="HS256"
    )
    no_issue_time = jwt.encode(
        {"sub": str(staff.id), "exp": now + LIMITS.jwt_max_lifetime_seconds + 3600},
        LIMITS.jwt_secret,
        algorithm="HS256",
    )
    for token in (forever, no_issue_time):
        body = await gql.execute("{ viewer { role } }", token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    within = mint_token(staff.id, LIMITS, lifetime=LIMITS_LIFETIME)
    assert await gql.data("{ viewer { role } }", token=within) == {"viewer": {"role": "STAFF"}}


def test_tokens_beyond_the_maximum_are_not_minted(capsys: pytest.CaptureFixture[str]) -> None:
    too_long = LIMITS_LIFETIME * 2
    with pytest.raises(ValueError, match="JWT_MAX_LIFETIME_SECONDS"):
        mint_token(uuid.uuid4(), LIMITS, lifetime=too_long)
    hours = too_long.total_seconds() / 3600
    assert print_token(user_id=str(uuid.uuid4()), hours=hours, settings=LIMITS) == 2
    assert "JWT_MAX_LIFETIME_SECONDS" in capsys.readouterr().err


FEED_OF = "subscription F($id: ID!) { messageEvents(conversationId: $id) { kind } }"


async def test_a_subscribe_flood_on_one_socket_is_paced(server: RunningServer) -> None:
    """Each subscribe beyond the first burst waits its turn, and the socket is not read
    meanwhile: a flood costs the server a bounded rate of work, however fast it is sent.
    Each is completed at once, so none is over the connection's cap (refused at once); the
    ping sent after them is read, and answered, only once they have all had their turn."""
    burst, rate = LIMITS.max_subscriptions_per_connection, LIMITS.websocket_subscribe_rate
    flood = burst + 2 * int(rate)
    async with GraphQLWebSocket.open(server.graphql_url) as ws:  # no token: refused, quickly
        started = time.monotonic()
        for _ in range(flood):
            operation = await ws.subscribe(FEED_OF, {"id": "x"})
            await ws.send({"id": operation, "type": "complete"})
        await ws.send({"type": "ping"})
        while (await ws.next_control())["type"] != "pong":
            pass  # the server's own keep-alive pings
        elapsed = time.monotonic() - started
    assert elapsed >= 0.9 * (flood - burst) / rate


async def test_a_subscribe_beyond_the_document_limits_is_refused_before_it_is_parsed(
    world: World, server: RunningServer
) -> None:
    """The socket's checks read a document within the limits only: one longer than
    MAX_QUERY_LENGTH is refused with its code; one over MAX_TOKENS stops the parser at
    the limit (the query named after it would be found only by a whole parse)."""
    padded = "subscription S { __typename }" + " " * LIMITS.max_query_length
    many = "subscription S { " + "a " * LIMITS.max_tokens + "} query Q { __typename }"
    staff = await world.user(await world.organization())
    async with GraphQLWebSocket.open(server.graphql_url, token=staff.token) as ws:
        too_long = await ws.next(await ws.subscribe(padded))
        await ws.send(
            {"id": "many", "type": "subscribe", "payload": {"query": many, "operationName": "Q"}}
        )
        closed = await ws.closed()
    assert too_long["type"] == "error"
    assert too_long["payload"][0]["extensions"]["code"] == "QUERY_TOO_LONG"
    assert closed[0] == 4400
    assert "tokens" in (closed[1] or "")


async def test_connections_beyond_the_workers_cap_are_answered_503_then_served_again(
    strict: RunningServer,
) -> None:
    """Each held connection may hold a body or a slowly read response: a worker holds at
    most HTTP_MAX_CONNECTIONS of them, and one beyond them is told so, not held."""
    held = [await RawConnection.open(strict.url) for _ in range(STRICT_CONNECTIONS)]
    try:
        late = await RawConnection.open(strict.url)
        refused = await late.request("POST", "/graphql", VALID, JSON)
        await late.close()
    finally:
        for connection in held:
            await connection.close()
    await asyncio.sleep(0.2)  # the server sees the closes
    again = await RawConnection.open(strict.url)
    try:
        served = await again.request("POST", "/graphql", VALID, JSON)
    finally:
        await again.close()
    assert (refused.status, served.status) == (503, 200)
    assert refused.codes() == ["SERVICE_UNAVAILABLE"]
    assert refused.headers["retry-after"] == "1"


async def test_a_response_its_client_leaves_unread_is_dropped_with_its_connection(
    strict: RunningServer,
) -> None:
    """A client that reads nothing of a large answer (GraphiQL's script, 3.5 MB) holds it
    only until HTTP_SEND_TIMEOUT_SECONDS pass with the server's write buffer full."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", urlsplit(strict.url).port or 80))
    raw.sendall(b"GET /graphiql/vendor/graphiql.min.js HTTP/1.1\r\nhost: x\r\n\r\n")
    await asyncio.sleep(3)  # unread, past the timeout
    reader, writer = await asyncio.open_connection(sock=raw)
    received = 0
    with contextlib.suppress(ConnectionError):
        async with asyncio.timeout(GUARD_SECONDS):
            while chunk := await reader.read(65_536):
                received += len(chunk)
    writer.close()
    assert 0 < received < 3_000_000


async def test_a_response_its_client_reads_slowly_is_sent_whole(strict: RunningServer) -> None:
    """Slower than the server writes, never pausing as long as HTTP_SEND_TIMEOUT_SECONDS:
    the connection stays, however long the whole answer takes."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", urlsplit(strict.url).port or 80))
    raw.sendall(b"GET /graphiql/vendor/graphiql.min.js HTTP/1.1\r\nhost: x\r\n\r\n")
    reader, writer = await asyncio.open_connection(sock=raw)
    received = 0
    async with asyncio.timeout(GUARD_SECONDS * 2):
        while received < 1_500_000:  # about 400 KB a second, for a few seconds
            chunk = await reader.read(100_000)
            assert chunk, received
            received += len(chunk)
            await asyncio.sleep(0.25)
        while chunk := await reader.read(1_000_000):
            received += len(chunk)
            if received >= 3_513_580:
                break
    writer.close()
    assert received >= 3_513_580
