"""Pages the server once refused to continue: each cursor it hands out is accepted back."""

from datetime import timedelta
from typing import Any

from engagement_api.db.enums import ProjectPhase, Role
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World

PROJECTS = """query($id: ID!, $after: String) { engagement(id: $id) {
  projects(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } }
} }"""

CONVERSATIONS = """query($id: ID!, $after: String) { engagement(id: $id) {
  conversations(first: 1, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id lastMessageAt } } }
} }"""


async def _walk(
    gql: GraphQLClient, query: str, name: str, engagement: Made, viewer: Made
) -> list[dict[str, Any]]:
    """Every node of the engagement's connection `name`, page after page."""
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(10):
        data = await gql.data(query, {"id": engagement.gid, "after": after}, token=viewer.token)
        page = data["engagement"][name]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the pages never end")


async def test_an_engagements_projects_page_on_after_their_end_cursor(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    made = [
        await world.project(engagement, phase, created_at=BASE_TIME)
        for phase in (ProjectPhase.KICKOFF, ProjectPhase.BUILD, ProjectPhase.HANDOFF)
    ]
    nodes = await _walk(gql, PROJECTS, "projects", engagement, staff)
    assert [node["id"] for node in nodes] == [project.gid for project in made]


async def test_conversations_page_on_past_one_never_messaged(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    messaged = await world.conversation(engagement, created_at=BASE_TIME)
    await world.message(messaged, staff, at=BASE_TIME)
    quiet = [
        await world.conversation(engagement, created_at=BASE_TIME + timedelta(minutes=n))
        for n in (2, 1)
    ]
    nodes = await _walk(gql, CONVERSATIONS, "conversations", engagement, staff)
    assert [node["id"] for node in nodes] == [messaged.gid, *(c.gid for c in quiet)]
    assert [node["lastMessageAt"] is None for node in nodes] == [False, True, True]


async def test_a_client_pages_on_past_a_conversation_with_only_internal_messages(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    public = await world.conversation(engagement, created_at=BASE_TIME)
    await world.message(public, staff, at=BASE_TIME)
    internal = [
        await world.conversation(engagement, created_at=BASE_TIME + timedelta(minutes=n))
        for n in (2, 1)
    ]
    for conversation in internal:
        await world.message(conversation, staff, is_internal=True, at=BASE_TIME + timedelta(1))
    nodes = await _walk(gql, CONVERSATIONS, "conversations", engagement, client)
    assert [node["id"] for node in nodes] == [public.gid, *(c.gid for c in internal)]
    assert [node["lastMessageAt"] is None for node in nodes] == [False, True, True]
