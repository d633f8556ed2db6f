"""GraphiQL in headless Chromium: a query with a bearer header, run through the UI."""

from pathlib import Path

from engagement_api.db.enums import Role
from tests.conftest import RunningServer
from tests.factories import World
from tests.node_clients import run_node

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def test_graphiql_runs_query_with_bearer_header_and_shows_result(
    world: World, server: RunningServer, tmp_path: Path
) -> None:
    org = await world.organization("Browser")
    staff = await world.user(org, Role.STAFF, name="Grace Browser")
    screenshot = tmp_path / "graphiql.png"
    shown = run_node("graphiql.mjs", server.graphql_url, staff.token, str(screenshot))["result"]
    assert shown["data"]["viewer"] == {
        "role": "STAFF",
        "user": {"name": "Grace Browser"},
        "organization": {"name": shown["data"]["viewer"]["organization"]["name"]},
    }
    assert shown["data"]["viewer"]["organization"]["name"].startswith("Browser ")
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
