"""GraphiQL in headless Chromium with the network cut to the server under test: the page and
all its assets come from the server, a query runs with the bearer header, a subscription
receives an event over the WebSocket."""

import json
import os
import shutil
from pathlib import Path

import httpx

from engagement_api.db.enums import Role
from tests.conftest import RunningServer
from tests.factories import World
from tests.live_feed import Thread
from tests.node_clients import run_node

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEEP_SCREENSHOT_AT = os.environ.get("GRAPHIQL_SCREENSHOT")
"""Where to keep the screenshot (docs/graphiql.png is made with this set)."""


async def test_graphiql_works_offline_query_and_subscription(
    world: World, server: RunningServer, tmp_path: Path
) -> None:
    org = await world.organization("Browser")
    client = await world.user(org, Role.CLIENT)
    conversation = await world.conversation(await world.engagement(org, client), subject="Live")
    feed = Thread(org, await world.user(org, Role.STAFF), client, conversation)
    screenshot = tmp_path / "graphiql.png"
    shown = run_node(
        "graphiql.mjs", server.graphql_url, feed.staff.token, feed.conversation.gid, str(screenshot)
    )
    assert shown["blocked"] == []
    assert json.loads(shown["initialHeaders"]) == {"Authorization": "Bearer "}
    viewer = shown["query"]["data"]["viewer"]
    assert viewer["role"] == "STAFF"
    assert viewer["organization"]["name"].startswith("Browser ")
    assert shown["event"]["data"]["messageEvents"] == {
        "kind": "POSTED",
        "message": {"content": "Hello from GraphiQL"},
    }
    assert shown["explorer"] is True
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    if KEEP_SCREENSHOT_AT:
        shutil.copyfile(screenshot, KEEP_SCREENSHOT_AT)


def test_graphiql_page_references_only_its_own_assets(server: RunningServer) -> None:
    page = httpx.get(server.graphql_url, headers={"accept": "text/html"})
    assert page.status_code == 200
    for reference in ("/graphiql/graphiql.js", "/graphiql/vendor/graphiql.min.js"):
        assert reference in page.text
        assert httpx.get(server.url + reference).status_code == 200
    assert "https://" not in page.text
