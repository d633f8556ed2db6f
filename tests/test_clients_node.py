"""Real clients against the running server: Apollo Client (SPA and persisted queries),
graphql-ws, relay-compiler and GraphQL Code Generator (see clients/)."""

from pathlib import Path

from engagement_api.db.enums import Role
from engagement_api.schema.export import served_sdl
from tests.conftest import RunningServer
from tests.factories import Made, World
from tests.node_clients import CLIENTS, run_node

THREAD_CONTENTS = [f"message {n}" for n in range(1, 8)]


async def _thread(world: World) -> tuple[Made, Made, Made]:
    """A staff member, a client and a conversation of 7 messages in their engagement."""
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client, name="Website")
    conversation = await world.conversation(engagement, subject="Kickoff")
    for content in THREAD_CONTENTS:
        await world.message(conversation, staff, content)
    return staff, client, conversation


def _export_schema() -> Path:
    path = CLIENTS / "relay" / "schema.graphql"
    path.write_text(served_sdl(), encoding="utf-8")
    return path


async def test_apollo_client_loads_dashboard_and_pages_thread_with_fetch_more(
    world: World, server: RunningServer
) -> None:
    staff, _, conversation = await _thread(world)
    spa = run_node("apollo.mjs", "spa", server.graphql_url, staff.token, conversation.gid, "3")
    assert spa["dashboard"]["role"] == "STAFF"
    assert spa["dashboard"]["engagements"] == ["Website"]
    assert spa["dashboard"]["conversations"] == [conversation.gid]
    assert spa["thread"]["pages"] == 3
    assert spa["thread"]["contents"] == THREAD_CONTENTS
    assert spa["thread"]["totalCount"] == len(THREAD_CONTENTS)
    assert spa["cache"] == {"conversationNormalized": True, "messageEntities": 7}


async def test_graphql_ws_client_receives_event_of_message_posted_over_http(
    world: World, server: RunningServer
) -> None:
    staff, client, conversation = await _thread(world)
    report = run_node(
        "subscription.mjs", server.graphql_url, client.token, staff.token, conversation.gid
    )
    event = report["event"]
    assert event["kind"] == "POSTED"
    assert event["messageId"] == report["posted"]["id"]
    assert event["message"]["content"] == "live message"


async def test_relay_compiler_accepts_schema_and_relay_documents(
    world: World, server: RunningServer
) -> None:
    staff, _, conversation = await _thread(world)
    _export_schema()
    report = run_node("relay.mjs", server.graphql_url, staff.token, conversation.gid)
    assert "ThreadMessagesPaginationQuery.graphql.js" in report["artifacts"]
    assert "ComposerMutation.graphql.js" in report["artifacts"]
    node = report["refetch"]["node"]
    assert node["__typename"] == "Conversation"
    assert [edge["node"]["content"] for edge in node["messages"]["edges"]] == THREAD_CONTENTS[:2]


def test_codegen_generates_strict_typescript_for_client_documents() -> None:
    schema = _export_schema()
    report = run_node("codegen.mjs", str(schema))
    for name in ("DashboardQuery", "ThreadQuery", "ThreadQueryVariables", "PostMessageMutation"):
        assert name in report["types"]
