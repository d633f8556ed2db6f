"""Relay connections (domain rules §4): orders, keyset cursors, exact pageInfo, limits."""

from datetime import timedelta
from typing import Any

from engagement_api.db.enums import ProjectPhase, Role
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World

THREAD = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  conversation(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { content } } } } }"""


async def _thread(world: World, size: int) -> tuple[Made, Made]:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    conversation = await world.conversation(engagement)
    for n in range(size):
        await world.message(conversation, staff, f"m{n}", at=BASE_TIME + timedelta(minutes=n))
    return staff, conversation


async def _page(gql: GraphQLClient, staff: Made, conversation: Made, **args: Any) -> Any:
    data = await gql.data(THREAD, {"id": conversation.gid, **args}, token=staff.token)
    return data["conversation"]["messages"]


def _contents(page: Any) -> list[str]:
    return [edge["node"]["content"] for edge in page["edges"]]


async def test_forward_pages_are_chronological_and_exact(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 5)
    first = await _page(gql, staff, conversation, first=2)
    assert _contents(first) == ["m0", "m1"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = await _page(gql, staff, conversation, first=2, after=first["pageInfo"]["endCursor"])
    assert _contents(second) == ["m2", "m3"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    last = await _page(gql, staff, conversation, first=2, after=second["pageInfo"]["endCursor"])
    assert _contents(last) == ["m4"]
    assert last["pageInfo"]["hasNextPage"] is False


async def test_backward_pages_read_the_newest_first(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 5)
    newest = await _page(gql, staff, conversation, last=2)
    assert _contents(newest) == ["m3", "m4"]
    assert newest["pageInfo"]["hasPreviousPage"] is True
    assert newest["pageInfo"]["hasNextPage"] is False
    older = await _page(gql, staff, conversation, last=2, before=newest["pageInfo"]["startCursor"])
    assert _contents(older) == ["m1", "m2"]
    assert older["pageInfo"]["hasNextPage"] is True
    oldest = await _page(gql, staff, conversation, last=2, before=older["pageInfo"]["startCursor"])
    assert _contents(oldest) == ["m0"]
    assert oldest["pageInfo"]["hasPreviousPage"] is False


async def test_pages_neither_skip_nor_repeat_when_messages_arrive(
    world: World, gql: GraphQLClient
) -> None:
    staff, conversation = await _thread(world, 4)
    first = await _page(gql, staff, conversation, first=2)
    await world.message(conversation, staff, "late", at=BASE_TIME + timedelta(days=1))
    rest = await _page(gql, staff, conversation, first=10, after=first["pageInfo"]["endCursor"])
    assert _contents(first) + _contents(rest) == ["m0", "m1", "m2", "m3", "late"]


async def test_total_count_counts_every_page(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 3)
    assert (await _page(gql, staff, conversation, first=1))["totalCount"] == 3


async def test_default_page_size_is_twenty(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 21)
    page = await _page(gql, staff, conversation)
    assert len(page["edges"]) == 20
    assert page["pageInfo"]["hasNextPage"] is True


async def test_first_zero_returns_no_edges_but_knows_more_exist(
    world: World, gql: GraphQLClient
) -> None:
    staff, conversation = await _thread(world, 1)
    page = await _page(gql, staff, conversation, first=0)
    assert page["edges"] == []
    assert page["pageInfo"]["hasNextPage"] is True


async def _error_code(gql: GraphQLClient, staff: Made, conversation: Made, **args: Any) -> Any:
    body = await gql.execute(THREAD, {"id": conversation.gid, **args}, token=staff.token)
    return [error["extensions"]["code"] for error in body["errors"]]


async def test_page_size_of_one_hundred_is_accepted(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 1)
    assert len((await _page(gql, staff, conversation, first=100))["edges"]) == 1


async def test_page_size_over_one_hundred_is_bad_user_input(
    world: World, gql: GraphQLClient
) -> None:
    staff, conversation = await _thread(world, 1)
    assert await _error_code(gql, staff, conversation, first=101) == ["BAD_USER_INPUT"]
    assert await _error_code(gql, staff, conversation, last=101) == ["BAD_USER_INPUT"]


async def test_negative_page_size_is_bad_user_input(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 1)
    assert await _error_code(gql, staff, conversation, first=-1) == ["BAD_USER_INPUT"]


async def test_first_and_last_together_are_bad_user_input(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 1)
    assert await _error_code(gql, staff, conversation, first=1, last=1) == ["BAD_USER_INPUT"]


async def test_malformed_cursor_is_bad_user_input(world: World, gql: GraphQLClient) -> None:
    staff, conversation = await _thread(world, 1)
    assert await _error_code(gql, staff, conversation, after="!!nonsense") == ["BAD_USER_INPUT"]


async def test_cursor_of_another_connection_is_bad_user_input(
    world: World, gql: GraphQLClient
) -> None:
    staff, conversation = await _thread(world, 1)
    data = await gql.data("{ engagements(first: 1) { edges { cursor } } }", token=staff.token)
    foreign = data["engagements"]["edges"][0]["cursor"]
    assert await _error_code(gql, staff, conversation, after=foreign) == ["BAD_USER_INPUT"]


async def test_projects_are_ordered_by_phase_then_creation(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    await world.project(engagement, ProjectPhase.BUILD, name="build")
    await world.project(engagement, ProjectPhase.KICKOFF, name="kickoff-2", created_at=BASE_TIME)
    await world.project(
        engagement, ProjectPhase.KICKOFF, name="kickoff-1", created_at=BASE_TIME - timedelta(1)
    )
    await world.project(engagement, ProjectPhase.HANDOFF, name="gone", deleted_at=BASE_TIME)
    query = """query($id: ID!) {
      engagement(id: $id) { projects { totalCount edges { node { name } } } } }"""
    data = await gql.data(query, {"id": engagement.gid}, token=staff.token)
    projects = data["engagement"]["projects"]
    assert [e["node"]["name"] for e in projects["edges"]] == ["kickoff-1", "kickoff-2", "build"]
    assert projects["totalCount"] == 3


async def test_projects_filter_by_status_and_phase(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    await world.project(engagement, ProjectPhase.BUILD, name="build")
    await world.project(engagement, ProjectPhase.SETUP, name="setup")
    query = """query($id: ID!) { engagement(id: $id) {
      projects(phase: [BUILD], status: [ACTIVE]) { totalCount edges { node { name } } } } }"""
    data = await gql.data(query, {"id": engagement.gid}, token=staff.token)
    assert [e["node"]["name"] for e in data["engagement"]["projects"]["edges"]] == ["build"]
    assert data["engagement"]["projects"]["totalCount"] == 1


async def test_conversations_by_activity_with_never_messaged_last(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    await world.conversation(engagement, subject="quiet")
    older = await world.conversation(engagement, subject="older")
    newer = await world.conversation(engagement, subject="newer")
    await world.message(older, staff, at=BASE_TIME)
    await world.message(newer, staff, at=BASE_TIME + timedelta(hours=1))
    query = """query($id: ID!, $after: String) { engagement(id: $id) {
      conversations(first: 2, after: $after) {
        pageInfo { endCursor hasNextPage } edges { node { subject } } } } }"""
    first = await gql.data(query, {"id": engagement.gid}, token=staff.token)
    page = first["engagement"]["conversations"]
    rest = await gql.data(
        query, {"id": engagement.gid, "after": page["pageInfo"]["endCursor"]}, token=staff.token
    )
    subjects = [e["node"]["subject"] for e in page["edges"]] + [
        e["node"]["subject"] for e in rest["engagement"]["conversations"]["edges"]
    ]
    assert subjects == ["newer", "older", "quiet"]


async def test_engagements_are_newest_first_and_filter_by_status(
    world: World, gql: GraphQLClient
) -> None:
    from engagement_api.db.enums import EngagementStatus

    org = await world.organization()
    staff = await world.user(org)
    client = await world.user(org, Role.CLIENT)
    await world.engagement(org, client, name="old", created_at=BASE_TIME)
    await world.engagement(org, client, name="new", created_at=BASE_TIME + timedelta(1))
    await world.engagement(org, client, EngagementStatus.CLOSED, name="closed")
    query = "{ engagements(status: [ACTIVE]) { edges { node { name } } } }"
    data = await gql.data(query, token=staff.token)
    assert [e["node"]["name"] for e in data["engagements"]["edges"]] == ["new", "old"]
