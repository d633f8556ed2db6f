"""A mutation document that a conflict undid (deadlock) runs again; the log and the
metrics report what the client was told: one operation line per request, its last run's
outcome (with `attempts`), and errors counted once per error answered."""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import Role
from tests.conftest import RunningServer, own_server
from tests.databases import waiting_on_locks
from tests.factories import World
from tests.raw_http import GUARD_SECONDS

PROJECT_THEN_RENAME = """
mutation Two($project: CreateProjectInput!, $rename: UpdateEngagementInput!) {
  createProject(input: $project) { project { id } errors { code } }
  updateEngagement(input: $rename) { engagement { name } errors { code } }
}"""
RENAME_BOTH = """
mutation Both($a: UpdateEngagementInput!, $b: UpdateEngagementInput!) {
  x: updateEngagement(input: $a) { errors { code } }
  y: updateEngagement(input: $b) { errors { code } }
}"""
CONCURRENT = 40


@pytest.fixture(scope="module")
def observed(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(database_url, tmp_path_factory, "observed")


async def _errors_counted(http: httpx.AsyncClient, server: RunningServer) -> Counter[str]:
    response = await http.get(f"{server.url}/metrics")
    return Counter(
        {
            sample.labels["code"]: int(sample.value)
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "graphql_errors_total"
        }
    )


async def _post(
    http: httpx.AsyncClient, server: RunningServer, token: str, query: str, variables: Any
) -> tuple[str, dict[str, Any]]:
    """The request's id and the answer."""
    request_id = f"retry-{uuid.uuid4().hex}"
    response = await http.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}", "x-request-id": request_id},
    )
    body: dict[str, Any] = response.json()
    return request_id, body


async def _deadlocking_pair(
    http: httpx.AsyncClient, server: RunningServer, engine: AsyncEngine, token: str, gid: str
) -> list[tuple[str, dict[str, Any]]]:
    """Two documents that each share-lock the engagement (a project), then need it
    exclusively (the rename): queued behind a held table lock, they deadlock for certain."""
    async with engine.connect() as connection:
        held = await connection.begin()
        await connection.execute(text("LOCK TABLE projects IN SHARE MODE"))
        queued = []
        for n in (1, 2):
            variables = {
                "project": {"engagementId": gid, "name": f"project {n}"},
                "rename": {"id": gid, "name": f"name {n}"},
            }
            queued.append(
                asyncio.ensure_future(_post(http, server, token, PROJECT_THEN_RENAME, variables))
            )
            async with asyncio.timeout(GUARD_SECONDS):
                while await waiting_on_locks(engine) < len(queued):  # noqa: ASYNC110 - remote
                    await asyncio.sleep(0.02)
        await held.commit()
    return list(await asyncio.gather(*queued))


async def test_a_document_run_again_after_a_conflict_is_logged_and_counted_once(
    world: World, observed: RunningServer, owner_engine: AsyncEngine
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    first, second = await world.engagement(org, client), await world.engagement(org, client)
    async with httpx.AsyncClient(timeout=60) as http:
        before = await _errors_counted(http, observed)
        answers = await _deadlocking_pair(http, observed, owner_engine, staff.token, first.gid)
        pairs = [(first.gid, second.gid), (second.gid, first.gid)]
        answers += await asyncio.gather(
            *(
                _post(
                    http,
                    observed,
                    staff.token,
                    RENAME_BOTH,
                    {"a": {"id": a, "name": f"a {n}"}, "b": {"id": b, "name": f"b {n}"}},
                )
                for n in range(CONCURRENT)
                for a, b in [pairs[n % 2]]
            )
        )
        counted = await _errors_counted(http, observed) - before
    records = [json.loads(line) for line in observed.logs().splitlines() if line.startswith("{")]
    told = Counter(
        error["extensions"]["code"] for _, body in answers for error in body.get("errors") or ()
    )
    assert counted == told
    lines: dict[str, list[dict[str, Any]]] = {request_id: [] for request_id, _ in answers}
    for record in records:
        if record["message"] == "operation" and record.get("request_id") in lines:
            lines[record["request_id"]].append(record)
    assert {request_id: len(found) for request_id, found in lines.items()} == dict.fromkeys(
        lines, 1
    )
    for request_id, body in answers:
        (line,) = lines[request_id]
        codes = [error["extensions"]["code"] for error in body.get("errors") or ()]
        assert line["error_codes"] == codes
        assert line["status"] == ("ok" if not codes else "partial" if body["data"] else "error")
    assert max(line["attempts"] for (line,) in lines.values()) > 1  # conflicts were run again
