"""Trusted documents: Apollo's automatic persisted queries (the mobile app's GETs) and the
production allow-list of registered documents. Each server here is this module's own, so
its in-process APQ cache starts empty."""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engagement_api.db.enums import Role
from engagement_api.http.persisted_documents import (
    PersistedDocuments,
    PersistedQueryNotFoundError,
    load_manifest,
)
from tests.conftest import GraphQLClient, RunningServer, own_server, start_server, stop_server
from tests.factories import World
from tests.live_feed import POST, post, thread
from tests.node_clients import run_node
from tests.ws_client import (
    MESSAGE_EVENTS,
    GraphQLWebSocket,
    subscriptions_started,
    wait_until_subscribed,
)

REGISTERED = "query Registered { viewer { role } }"
UNREGISTERED = "query Unregistered { viewer { user { name } } }"
UNREGISTERED_FEED = "subscription Other($id: ID!) { messageEvents(conversationId: $id) { kind } }"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(sha: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


@pytest.fixture(scope="module")
def apq_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "apq")


@pytest.fixture(scope="module")
def allow_list_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("allow_list")
    manifest = folder / "persisted-documents.json"
    operations = [
        {"id": sha256(body), "name": name, "type": kind, "body": body}
        for name, kind, body in (
            ("Registered", "query", REGISTERED),
            ("Feed", "subscription", MESSAGE_EVENTS),
            ("Post", "mutation", POST),
        )
    ]
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    running = start_server(
        database_url,
        str(folder / "server.log"),
        PERSISTED_DOCUMENTS_ONLY="true",
        PERSISTED_DOCUMENTS_PATH=str(manifest),
    )
    yield running
    stop_server(running)


async def _get(
    http: httpx.AsyncClient, server: RunningServer, token: str, **params: str
) -> dict[str, Any]:
    response = await http.get(
        server.graphql_url,
        params=params,
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_apollo_mobile_client_registers_then_runs_dashboard_by_hash_over_get(
    world: World, apq_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    mobile = run_node("apollo.mjs", "mobile", apq_server.graphql_url, staff.token)
    assert mobile["roles"] == ["STAFF", "STAFF"]
    # The hash alone is unknown, the full document registers it, then the hash alone runs.
    assert mobile["requests"] == [
        {"method": "GET", "hasQuery": False},
        {"method": "POST", "hasQuery": True},
        {"method": "GET", "hasQuery": False},
    ]


async def test_unknown_hash_answers_persisted_query_not_found(
    world: World, http: httpx.AsyncClient, apq_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    unknown = sha256("query Never { __typename }")
    body = await _get(http, apq_server, staff.token, extensions=json.dumps(persisted(unknown)))
    assert _code(body) == "PERSISTED_QUERY_NOT_FOUND"
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize("version", [2, 0, "1", None])
async def test_a_persisted_query_version_other_than_1_is_refused_as_such(
    world: World, http: httpx.AsyncClient, apq_server: RunningServer, version: object
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    extensions = {"persistedQuery": {**persisted(sha256(REGISTERED))["persistedQuery"]}}
    extensions["persistedQuery"]["version"] = version
    body = await _get(http, apq_server, staff.token, extensions=json.dumps(extensions))
    assert _code(body) == "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"


async def test_hash_only_get_that_accepts_anything_is_answered_not_with_graphiql(
    http: httpx.AsyncClient, apq_server: RunningServer
) -> None:
    extensions = json.dumps(persisted(sha256("query Never { __typename }")))
    response = await http.get(
        apq_server.graphql_url, params={"extensions": extensions}, headers={"accept": "*/*"}
    )
    assert response.headers["content-type"].startswith("application/json")
    assert _code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"


async def test_hash_that_does_not_match_the_query_is_refused(
    world: World, http: httpx.AsyncClient, apq_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    wrong = persisted(sha256("query Other { __typename }"))
    body = await _get(http, apq_server, staff.token, query=REGISTERED, extensions=json.dumps(wrong))
    assert _code(body) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert body["data"] is None


async def test_allow_list_runs_registered_document_by_hash_over_get(
    world: World, http: httpx.AsyncClient, allow_list_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    extensions = json.dumps(persisted(sha256(REGISTERED)))
    body = await _get(http, allow_list_server, staff.token, extensions=extensions)
    assert body["data"] == {"viewer": {"role": "STAFF"}}


async def test_allow_list_runs_registered_document_sent_in_full(
    world: World, http: httpx.AsyncClient, allow_list_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    body = await _get(http, allow_list_server, staff.token, query=REGISTERED)
    assert body["data"] == {"viewer": {"role": "STAFF"}}


async def test_allow_list_refuses_unregistered_document(
    world: World, http: httpx.AsyncClient, allow_list_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    body = await _get(http, allow_list_server, staff.token, query=UNREGISTERED)
    assert _code(body) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert body["data"] is None


async def test_allow_list_does_not_register_automatic_persisted_queries(
    world: World, http: httpx.AsyncClient, allow_list_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    extensions = json.dumps(persisted(sha256(UNREGISTERED)))
    offered = await _get(
        http, allow_list_server, staff.token, query=UNREGISTERED, extensions=extensions
    )
    by_hash = await _get(http, allow_list_server, staff.token, extensions=extensions)
    assert _code(offered) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert _code(by_hash) == "PERSISTED_QUERY_NOT_FOUND"


async def test_allow_list_refuses_unregistered_subscription_over_websocket(
    world: World, allow_list_server: RunningServer
) -> None:
    feed = await thread(world)
    async with GraphQLWebSocket.open(allow_list_server.graphql_url, token=feed.client.token) as ws:
        operation = await ws.subscribe(UNREGISTERED_FEED, {"id": feed.conversation.gid})
        refused = await ws.next(operation)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_allow_list_streams_registered_subscription_over_websocket(
    world: World, http: httpx.AsyncClient, allow_list_server: RunningServer
) -> None:
    feed = await thread(world)
    gql = GraphQLClient(http, allow_list_server.graphql_url)
    started = await subscriptions_started(allow_list_server.url)
    async with GraphQLWebSocket.open(allow_list_server.graphql_url, token=feed.client.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(allow_list_server.url, started + 1)
        posted = await post(gql, feed.staff, feed.conversation, "trusted")
        event = await ws.event(operation)
    assert event["messageId"] == posted


def test_automatic_persisted_queries_forget_the_least_recently_used_document() -> None:
    documents = PersistedDocuments(registered={}, only_registered=False, cache_size=2)
    first, second, third = (f"query Q{n} {{ __typename }}" for n in range(3))
    for document in (first, second, third):
        documents.resolve(document, persisted(sha256(document)))
    assert documents.resolve(None, persisted(sha256(third))) == third
    with pytest.raises(PersistedQueryNotFoundError):
        documents.resolve(None, persisted(sha256(first)))


def test_manifest_whose_id_is_not_the_documents_hash_is_rejected(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    operation = {"id": sha256("other"), "name": "Registered", "type": "query", "body": REGISTERED}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
        )
    )
    with pytest.raises(ValueError, match="SHA-256"):
        load_manifest(manifest)


async def test_a_viewers_answer_by_hash_over_get_is_kept_by_no_shared_cache(
    world: World, http: httpx.AsyncClient, apq_server: RunningServer
) -> None:
    """The same URL answers each viewer with its own data: such answers are private and
    not stored, and every answer varies with the credentials."""
    staff = await world.user(await world.organization(), Role.STAFF)
    query = "query Mine { viewer { user { id } } }"
    extensions = json.dumps(persisted(sha256(query)))
    await http.post(
        apq_server.graphql_url,
        json={"query": query, "extensions": json.loads(extensions)},
        headers={"authorization": f"Bearer {staff.token}"},
    )
    viewer = await http.get(
        apq_server.graphql_url,
        params={"extensions": extensions},
        headers={"authorization": f"Bearer {staff.token}"},
    )
    anonymous = await http.get(apq_server.graphql_url, params={"extensions": extensions})
    assert viewer.json()["data"]["viewer"]["user"]["id"] == staff.gid
    assert viewer.headers["cache-control"] == "private, no-store"
    assert "cache-control" not in anonymous.headers
    for response in (viewer, anonymous):
        assert "authorization" in response.headers["vary"].lower()
