"""Error discipline: an unexpected failure is masked for the client (a generic message and
the request id) and logged with its traceback and request id; the client's own mistakes
get clear errors with stable codes.

The unexpected failure is real: a server runs on its own database whose `engagements.name`
column was renamed behind its back (schema drift), so the read fails inside PostgreSQL.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from engagement_api.db.engine import create_engine
from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.databases import migrated_database
from tests.factories import World

LEAKS = ("SELECT", "asyncpg", "sqlalchemy", "Traceback", "UndefinedColumn", "name_drifted")
QUERY = "{ engagements(first: 5) { edges { node { id name } } } }"


@dataclass(frozen=True)
class Drifted:
    server: RunningServer
    token: str
    database_url: str
    message_gid: str


@pytest.fixture(scope="module")
async def drifted_database() -> AsyncIterator[str]:
    async with migrated_database("masking") as url:
        yield url


@pytest.fixture(scope="module")
def drifted_server(
    drifted_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(drifted_database, tmp_path_factory, "masking")


@pytest.fixture(scope="module")
async def drifted(drifted_database: str, drifted_server: RunningServer) -> Drifted:
    engine = create_engine(drifted_database)
    world = World(engine)
    org = await world.organization("Drift")
    staff = await world.user(org, Role.STAFF)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT), name="E")
    message = await world.message(await world.conversation(engagement), staff, "first draft")
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE engagements RENAME COLUMN name TO name_drifted"))
    await engine.dispose()
    return Drifted(drifted_server, staff.token, drifted_database, message.gid)


async def _post(http: httpx.AsyncClient, drifted: Drifted, request_id: str) -> httpx.Response:
    return await http.post(
        drifted.server.graphql_url,
        json={"query": QUERY},
        headers={"authorization": f"Bearer {drifted.token}", "x-request-id": request_id},
    )


async def test_unexpected_error_reaches_the_client_as_a_generic_message_with_the_request_id(
    http: httpx.AsyncClient, drifted: Drifted
) -> None:
    request_id = uuid.uuid4().hex
    body = (await _post(http, drifted, request_id)).json()
    assert [(error["message"], error["extensions"]) for error in body["errors"]] == [
        ("Unexpected server error.", {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})
    ]


async def test_masked_error_reveals_no_sql_stack_or_internal_name(
    http: httpx.AsyncClient, drifted: Drifted
) -> None:
    response = await _post(http, drifted, uuid.uuid4().hex)
    assert [leak for leak in LEAKS if leak in response.text] == []


async def test_unexpected_error_is_logged_with_traceback_and_request_id(
    http: httpx.AsyncClient, drifted: Drifted
) -> None:
    request_id = uuid.uuid4().hex
    await _post(http, drifted, request_id)
    records = [_json(line) for line in drifted.server.logs().splitlines()]
    logged = [r for r in records if r.get("request_id") == request_id and "traceback" in r]
    assert logged, "no error record with a traceback for the request"
    assert "name_drifted" in logged[0]["traceback"] or "UndefinedColumn" in logged[0]["traceback"]


EDIT_THEN_READ_THE_DRIFTED_COLUMN = """mutation($input: EditMessageInput!) {
  editMessage(input: $input) {
    message { id conversation { engagement { name } } } errors { code } } }"""


async def test_a_write_whose_transaction_a_later_failure_aborted_is_never_acknowledged(
    http: httpx.AsyncClient, drifted: Drifted
) -> None:
    content = f"lost-{uuid.uuid4().hex}"
    variables = {"input": {"id": drifted.message_gid, "content": content}}
    response = await http.post(
        drifted.server.graphql_url,
        json={"query": EDIT_THEN_READ_THE_DRIFTED_COLUMN, "variables": variables},
        headers={"authorization": f"Bearer {drifted.token}"},
    )
    body = response.json()
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    engine = create_engine(drifted.database_url)
    try:
        async with engine.connect() as connection:
            saved = await connection.scalar(
                text("SELECT count(*) FROM conversation_messages WHERE content = :content"),
                {"content": content},
            )
    finally:
        await engine.dispose()
    assert saved == 0


def _json(line: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


# The client's own mistakes: clear, coded, never masked ---------------------------------


async def test_variable_of_the_wrong_type_is_bad_user_input_not_masked(
    gql: GraphQLClient, world: World
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    body = await gql.execute(
        "query($n: Int) { engagements(first: $n) { totalCount } }", {"n": "many"}, token=staff.token
    )
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert "Int" in body["errors"][0]["message"]


async def test_unknown_field_is_a_validation_error_with_a_suggestion_in_dev_mode(
    gql: GraphQLClient,
) -> None:
    body = await gql.execute("{ engagementz { totalCount } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" in error["message"]


async def test_missing_token_is_unauthenticated(gql: GraphQLClient) -> None:
    body = await gql.execute("{ viewer { role } }")
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
