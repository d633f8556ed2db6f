"""Observability: the per-operation log line, Prometheus metrics at /metrics, and
OpenTelemetry spans when tracing is switched on."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, start_server, stop_server
from tests.factories import World
from tests.live_feed import post, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed

PROBE = "query MetricsProbe { viewer { role } engagements(first: 2) { totalCount } }"


async def _scrape(http: httpx.AsyncClient, server: RunningServer) -> dict[tuple[str, str], float]:
    """Every sample as {(name, sorted labels): value}."""
    response = await http.get(f"{server.url}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, json.dumps(sample.labels, sort_keys=True)): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, str], float], name: str, **labels: str) -> float:
    return samples.get((name, json.dumps(labels, sort_keys=True)), 0.0)


def _log_lines(server: RunningServer, request_id: str) -> list[dict[str, Any]]:
    lines = []
    for line in server.logs().splitlines():
        if request_id in line and line.startswith("{"):
            lines.append(json.loads(line))
    return lines


async def test_operation_log_line_has_name_duration_status_ids_and_statement_count(
    world: World, http: httpx.AsyncClient, server: RunningServer
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    request_id = f"log-{uuid.uuid4().hex}"
    response = await http.post(
        server.graphql_url,
        json={"query": PROBE},
        headers={"authorization": f"Bearer {staff.token}", "x-request-id": request_id},
    )
    assert response.headers["x-request-id"] == request_id
    (line,) = [entry for entry in _log_lines(server, request_id) if entry["message"] == "operation"]
    assert line["operation_name"] == "MetricsProbe"
    assert line["operation_type"] == "query"
    assert line["status"] == "ok"
    assert line["viewer_id"] == str(staff.id)
    assert line["org_id"] == str(org.id)
    assert line["sql_statements"] >= 2  # the viewer lookup and the engagements count
    assert line["duration_ms"] > 0


async def test_operation_log_line_of_a_failed_operation_has_its_error_codes(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    request_id = f"log-{uuid.uuid4().hex}"
    await http.post(server.graphql_url, json={"query": PROBE}, headers={"x-request-id": request_id})
    (line,) = [entry for entry in _log_lines(server, request_id) if entry["message"] == "operation"]
    assert line["status"] == "error"
    assert line["error_codes"] == ["UNAUTHENTICATED"]
    assert line["viewer_id"] is None


async def test_metrics_show_operation_latency_errors_and_pool_after_requests(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    before = await _scrape(http, server)
    for _ in range(3):
        await gql.data(PROBE, token=staff.token)
    await gql.execute(PROBE)  # UNAUTHENTICATED
    await gql.execute("query Broken { nope }")  # validation
    after = await _scrape(http, server)

    def grew(name: str, by: float, **labels: str) -> bool:
        return _value(after, name, **labels) - _value(before, name, **labels) == by

    probe = {"operation_name": "MetricsProbe", "operation_type": "query"}
    assert grew("graphql_operation_duration_seconds_count", 4, **probe)
    assert grew("graphql_operation_duration_seconds_bucket", 4, le="+Inf", **probe)
    assert grew("graphql_errors_total", 1, code="UNAUTHENTICATED")
    assert grew("graphql_errors_total", 1, code="GRAPHQL_VALIDATION_FAILED")
    assert _value(after, "db_pool_size") >= 1
    assert ("db_pool_connections", json.dumps({"state": "checked_out"})) in after
    assert ("db_pool_connections", json.dumps({"state": "idle"})) in after


async def test_metrics_count_an_active_subscription(
    world: World, http: httpx.AsyncClient, gql: GraphQLClient, server: RunningServer
) -> None:
    feed = await thread(world)
    started = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(server.url, started + 1)
        await post(gql, feed.staff, feed.conversation, "counted")
        await ws.event(operation)
        samples = await _scrape(http, server)
    assert _value(samples, "graphql_active_subscriptions") >= 1


@pytest.fixture(scope="module")
def traced_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log = str(tmp_path_factory.mktemp("traced") / "server.log")
    running = start_server(database_url, log, TRACING_ENABLED="true", TRACING_EXPORTER="console")
    yield running
    stop_server(running)


async def test_tracing_exports_operation_and_loader_spans_when_switched_on(
    world: World, http: httpx.AsyncClient, traced_server: RunningServer
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    await world.engagement(org, client, name="Traced")
    query = "query TraceProbe { engagements(first: 5) { edges { node { client { name } } } } }"
    response = await http.post(
        traced_server.graphql_url,
        json={"query": query},
        headers={"authorization": f"Bearer {staff.token}"},
    )
    assert "errors" not in response.json()
    logs = traced_server.logs()
    assert '"name": "GraphQL Query: TraceProbe"' in logs
    assert '"name": "loader UserByIdLoader"' in logs  # the clients, in one batch


async def test_metrics_count_requests_refused_before_execution(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    before = await _scrape(http, server)
    await http.get(server.graphql_url, params={"extensions": json.dumps(unknown)})
    after = await _scrape(http, server)
    code = {"code": "PERSISTED_QUERY_NOT_FOUND"}
    grown = _value(after, "graphql_errors_total", **code) - _value(
        before, "graphql_errors_total", **code
    )
    assert grown == 1


async def test_every_line_the_server_writes_is_a_json_log_record(
    world: World, server: RunningServer
) -> None:
    """Uvicorn's own lines (start, each WebSocket's acceptance) included: a log pipeline
    reading JSON lines loses none."""
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    async with GraphQLWebSocket.open(server.graphql_url, token=staff.token):
        pass
    lines = [line for line in server.logs().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len(lines), [line for line in lines if not line.startswith("{")][:3]
    assert all({"level", "logger", "message"} <= record.keys() for record in records)
    assert not [r for r in records if any("\x1b" in str(value) for value in r.values())]
    assert any(record["logger"].startswith("uvicorn") for record in records)


REFUSED_BEFORE_EXECUTION = {
    "a mutation over GET": (
        "GET",
        {"query": "mutation { __typename }"},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    "an unknown persisted query": (
        "GET",
        {"extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}})},
        200,
        "PERSISTED_QUERY_NOT_FOUND",
    ),
    "a query over the length limit": (
        "POST",
        {"query": "{" + " " * 20_000 + "__typename }"},
        200,
        "QUERY_TOO_LONG",
    ),
}


@pytest.mark.parametrize("refusal", sorted(REFUSED_BEFORE_EXECUTION))
async def test_a_request_refused_before_execution_is_logged_and_counted_with_its_code(
    http: httpx.AsyncClient, server: RunningServer, refusal: str
) -> None:
    method, payload, status, code = REFUSED_BEFORE_EXECUTION[refusal]
    request_id = f"refused-{uuid.uuid4().hex}"
    headers = {"x-request-id": request_id, "accept": "application/json"}
    before = await _scrape(http, server)
    if method == "GET":
        response = await http.get(server.graphql_url, params=payload, headers=headers)
    else:
        response = await http.post(server.graphql_url, json=payload, headers=headers)
    after = await _scrape(http, server)
    assert response.status_code == status
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [code]
    (line,) = [entry for entry in _log_lines(server, request_id) if entry["message"] == "operation"]
    assert (line["status"], line["error_codes"]) == ("error", [code])
    counted = _value(after, "graphql_errors_total", code=code)
    assert counted - _value(before, "graphql_errors_total", code=code) == 1
