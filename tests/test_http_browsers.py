"""HTTP for browsers and phones: CORS for the configured SPA origins (HTTP and the
WebSocket handshake), gzip for large responses."""

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import RunningServer, start_server, stop_server

SPA = "https://app.example.test"
OTHER = "https://evil.example.test"
INTROSPECTION = "{ __schema { types { name fields { name type { name } } } } }"


@pytest.fixture(scope="module")
def cors_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log = str(tmp_path_factory.mktemp("cors") / "server.log")
    running = start_server(database_url, log, CORS_ORIGINS=json.dumps([SPA]))
    yield running
    stop_server(running)


def _preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_cors_preflight_allows_configured_origin_with_bearer_header(
    http: httpx.AsyncClient, cors_server: RunningServer
) -> None:
    response = await http.options(cors_server.graphql_url, headers=_preflight(SPA))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_cors_preflight_refuses_unlisted_origin(
    http: httpx.AsyncClient, cors_server: RunningServer
) -> None:
    response = await http.options(cors_server.graphql_url, headers=_preflight(OTHER))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_response_lets_the_spa_read_the_request_id(
    http: httpx.AsyncClient, cors_server: RunningServer
) -> None:
    response = await http.post(
        cors_server.graphql_url, json={"query": "{ __typename }"}, headers={"origin": SPA}
    )
    assert response.headers["access-control-allow-origin"] == SPA
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert response.headers["x-request-id"]


async def test_websocket_handshake_from_configured_origin_is_accepted(
    cors_server: RunningServer,
) -> None:
    url = cors_server.graphql_url.replace("http://", "ws://")
    async with connect(url, subprotocols=["graphql-transport-ws"], origin=SPA) as ws:  # type: ignore[list-item,arg-type]
        assert ws.subprotocol == "graphql-transport-ws"


async def test_websocket_handshake_from_unlisted_origin_is_refused(
    cors_server: RunningServer,
) -> None:
    url = cors_server.graphql_url.replace("http://", "ws://")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=["graphql-transport-ws"], origin=OTHER):  # type: ignore[list-item,arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_large_response_is_gzipped(http: httpx.AsyncClient, server: RunningServer) -> None:
    response = await http.post(
        server.graphql_url, json={"query": INTROSPECTION}, headers={"accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content)
    assert response.json()["data"]["__schema"]["types"]


async def test_small_response_is_not_compressed(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.post(
        server.graphql_url, json={"query": "{ __typename }"}, headers={"accept-encoding": "gzip"}
    )
    assert "content-encoding" not in response.headers
