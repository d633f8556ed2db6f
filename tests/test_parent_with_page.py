"""A conversation looked up with its messages page reads both in ONE statement
(`ParentWithPageLoader`): the answer is the one the two statements gave, for every viewer,
and whatever the selection cannot be read that way is read the usual way."""

from datetime import timedelta
from typing import Any

from engagement_api.db import queries
from engagement_api.db.enums import ProjectStatus, Role
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World

PAGE = """totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id content isInternal createdAt sender { id name } } }"""
BY_LOOKUP = f"""query($id: ID!, $last: Int, $before: String) {{ conversation(id: $id) {{
  id subject status lastMessageAt messages(last: $last, before: $before) {{ {PAGE} }} }} }}"""
BY_NODE = f"""query($id: ID!, $last: Int, $before: String) {{ node(id: $id) {{
  ... on Conversation {{ id subject status lastMessageAt
  messages(last: $last, before: $before) {{ {PAGE} }} }} }} }}"""
"""The same selection through `node`, which reads the conversation and its page apart."""


READ_ALONG = [
    spec
    for spec in vars(queries).values()
    if isinstance(spec, queries.ConnectionSpec) and spec.parent_model is not None
]


def test_every_connection_read_along_has_a_parent_model() -> None:
    names = {spec.name for spec in READ_ALONG}
    assert {"messages", "projects", "conversations", "orders"} <= names


async def _thread(world: World) -> tuple[Made, Made, Made]:
    """(staff, client, conversation): 12 messages, every third one internal."""
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    conversation = await world.conversation(await world.engagement(org, client))
    for n in range(12):
        sender = client if n % 2 else staff
        at = BASE_TIME + timedelta(minutes=n)
        await world.message(conversation, sender, f"m{n}", is_internal=n % 3 == 0, at=at)
    return staff, client, conversation


async def _both(gql: GraphQLClient, token: str, variables: dict[str, Any]) -> tuple[Any, Any]:
    folded = await gql.execute(BY_LOOKUP, variables, token=token)
    apart = await gql.execute(BY_NODE, variables, token=token)
    assert "errors" not in folded
    assert "errors" not in apart
    return folded, apart


async def test_the_folded_read_answers_as_the_two_statements_do_for_staff(
    world: World, gql: GraphQLClient
) -> None:
    staff, _, conversation = await _thread(world)
    folded, apart = await _both(gql, staff.token, {"id": conversation.gid, "last": 5})
    assert folded["data"]["conversation"] == apart["data"]["node"]
    assert folded["extensions"]["sqlStatements"] == apart["extensions"]["sqlStatements"] - 1


async def test_the_folded_read_answers_as_the_two_statements_do_for_a_client(
    world: World, gql: GraphQLClient
) -> None:
    _, client, conversation = await _thread(world)
    folded, apart = await _both(gql, client.token, {"id": conversation.gid, "last": 5})
    page = folded["data"]["conversation"]["messages"]
    assert folded["data"]["conversation"] == apart["data"]["node"]
    assert page["totalCount"] == 8
    assert not any(edge["node"]["isInternal"] for edge in page["edges"])


async def test_an_older_page_by_cursor_is_read_folded_too(world: World, gql: GraphQLClient) -> None:
    staff, _, conversation = await _thread(world)
    newest = await gql.data(BY_LOOKUP, {"id": conversation.gid, "last": 5}, token=staff.token)
    cursor = newest["conversation"]["messages"]["pageInfo"]["startCursor"]
    variables = {"id": conversation.gid, "last": 5, "before": cursor}
    folded, apart = await _both(gql, staff.token, variables)
    contents = [
        edge["node"]["content"] for edge in folded["data"]["conversation"]["messages"]["edges"]
    ]
    assert contents == ["m2", "m3", "m4", "m5", "m6"]
    assert folded["data"]["conversation"] == apart["data"]["node"]


async def test_a_conversation_without_messages_is_read_with_an_empty_page(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    conversation = await world.conversation(
        await world.engagement(org, await world.user(org, Role.CLIENT))
    )
    data = await gql.data(BY_LOOKUP, {"id": conversation.gid, "last": 5}, token=staff.token)
    assert data["conversation"]["id"] == conversation.gid
    assert data["conversation"]["messages"]["edges"] == []
    assert data["conversation"]["messages"]["totalCount"] == 0


async def test_a_conversation_the_viewer_may_not_see_is_null_with_no_page(
    world: World, gql: GraphQLClient
) -> None:
    _, _, conversation = await _thread(world)
    other_client = await world.user(await world.organization(), Role.CLIENT)
    assert conversation.org_id is not None
    own_org_client = await world.user(
        Made(id=conversation.org_id, gid="", org_id=conversation.org_id), Role.CLIENT
    )
    for viewer in (other_client, own_org_client):
        body = await gql.execute(BY_LOOKUP, {"id": conversation.gid, "last": 5}, token=viewer.token)
        assert body == {"data": {"conversation": None}, "extensions": body["extensions"]}


async def test_two_pages_of_one_conversation_are_read_the_usual_way(
    world: World, gql: GraphQLClient
) -> None:
    staff, _, conversation = await _thread(world)
    query = """query($id: ID!) { conversation(id: $id) {
      newest: messages(last: 2) { edges { node { content } } }
      oldest: messages(first: 2) { edges { node { content } } } } }"""
    data = await gql.data(query, {"id": conversation.gid}, token=staff.token)
    newest = [edge["node"]["content"] for edge in data["conversation"]["newest"]["edges"]]
    oldest = [edge["node"]["content"] for edge in data["conversation"]["oldest"]["edges"]]
    assert (newest, oldest) == (["m10", "m11"], ["m0", "m1"])


async def test_a_bad_cursor_is_still_reported_by_the_connection(
    world: World, gql: GraphQLClient
) -> None:
    staff, _, conversation = await _thread(world)
    variables = {"id": conversation.gid, "last": 5, "before": "not-a-cursor"}
    body = await gql.execute(BY_LOOKUP, variables, token=staff.token)
    assert body["data"] == {"conversation": None}  # `messages` is non-null: its parent nulls
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["conversation", "messages"]


ENGAGEMENT = """id name status
  projects(first: 10{filter}) {{ totalCount edges {{ node {{ id name status phase }} }} }}
  conversations(first: 10) {{ edges {{ node {{ id subject messages(last: 2) {{
    edges {{ node {{ content }} }} }} }} }} }}
  orders(first: 10) {{ edges {{ node {{ id amountCents client {{ id }} }} }} }}"""


def _engagement_queries(project_filter: str = "") -> tuple[str, str]:
    selection = ENGAGEMENT.format(filter=project_filter)
    by_lookup = f"query($id: ID!) {{ engagement(id: $id) {{ {selection} }} }}"
    by_node = f"query($id: ID!) {{ node(id: $id) {{ ... on Engagement {{ {selection} }} }} }}"
    return by_lookup, by_node


async def _engagement(world: World) -> tuple[Made, Made, Made]:
    """(staff, client, engagement): two projects (one paused), a conversation, an order."""
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    await world.project(engagement)
    await world.project(engagement, status=ProjectStatus.PAUSED)
    conversation = await world.conversation(engagement)
    await world.message(conversation, client, "hello")
    await world.order(org, client, engagement)
    return staff, client, engagement


async def test_an_engagement_is_read_with_its_first_connection_as_the_two_statements_read_it(
    world: World, gql: GraphQLClient
) -> None:
    staff, client, engagement = await _engagement(world)
    by_lookup, by_node = _engagement_queries()
    for viewer in (staff, client):
        folded = await gql.execute(by_lookup, {"id": engagement.gid}, token=viewer.token)
        apart = await gql.execute(by_node, {"id": engagement.gid}, token=viewer.token)
        assert folded["data"]["engagement"] == apart["data"]["node"], folded.get("errors")
        assert len(folded["data"]["engagement"]["projects"]["edges"]) == 2
        assert folded["extensions"]["sqlStatements"] <= apart["extensions"]["sqlStatements"] - 1


async def test_a_filtered_connection_is_read_by_its_own_statement(
    world: World, gql: GraphQLClient
) -> None:
    staff, _, engagement = await _engagement(world)
    by_lookup, by_node = _engagement_queries(", status: [PAUSED]")
    folded = await gql.execute(by_lookup, {"id": engagement.gid}, token=staff.token)
    apart = await gql.execute(by_node, {"id": engagement.gid}, token=staff.token)
    assert folded["data"]["engagement"] == apart["data"]["node"]
    assert [
        edge["node"]["status"] for edge in folded["data"]["engagement"]["projects"]["edges"]
    ] == ["PAUSED"]
    # the next connection (conversations) is the one read along instead (a sender it joins
    # in may also spare the order client's statement: fewer, never more)
    assert folded["extensions"]["sqlStatements"] <= apart["extensions"]["sqlStatements"] - 1
