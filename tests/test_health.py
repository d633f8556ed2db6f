"""The process and readiness probes."""

import httpx

from engagement_api.db.migrate import head_revision
from tests.conftest import RunningServer


async def test_healthz_answers_while_the_process_is_up(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_reports_the_migrated_revision(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.get(f"{server.url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": head_revision()}


async def test_every_response_carries_a_request_id(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    generated = await http.get(f"{server.url}/healthz")
    echoed = await http.get(f"{server.url}/healthz", headers={"X-Request-ID": "trace-42"})
    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "trace-42"
