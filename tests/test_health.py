"""The process and readiness probes."""

from pathlib import Path

import httpx

from engagement_api.db.migrate import head_revision
from tests.catalog import scratch_database, upgrade
from tests.conftest import RunningServer, start_server, stop_server


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


async def test_readyz_waits_for_the_migrations_of_the_release(tmp_path: Path) -> None:
    """A server started before `migrate` ran is up but not ready, and says which revision
    it expects; it becomes ready once the database is migrated, without a restart."""
    async with scratch_database("pending") as url:
        await upgrade(url, "0005")
        server = start_server(url, str(tmp_path / "server.log"), ready_path="/healthz")
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                pending = await http.get(f"{server.url}/readyz")
                assert pending.status_code == 503
                assert pending.json() == {
                    "status": "migrations pending",
                    "database": "0005",
                    "expected": head_revision(),
                }
                await upgrade(url)
                ready = await http.get(f"{server.url}/readyz")
            assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        finally:
            stop_server(server)
