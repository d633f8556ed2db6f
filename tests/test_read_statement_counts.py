"""The read graph costs a constant number of SQL statements, whatever the page size.

The server reports `extensions.sqlStatements`: every statement its connection sent,
BEGIN and COMMIT included.
"""

from datetime import timedelta

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World

DASHBOARD = """query Dashboard($first: Int!) {
  engagements(first: $first) { totalCount edges { node { id name status client { name }
    projects(first: 50) { totalCount edges { node { id name phase status } } }
    conversations(first: 10) { totalCount edges { node { id subject lastMessageAt
      messages(last: 10) { totalCount edges { node { id content isInternal
        sender { id name } } } } } } }
    orders(first: 10) { totalCount edges { node { id amountCents status } } } } } } }"""

THREAD_PAGE = """query Thread($id: ID!, $before: String) { conversation(id: $id) { subject
  messages(last: 30, before: $before) { pageInfo { hasPreviousPage startCursor }
    edges { cursor node { id content createdAt sender { id name } } } } } }"""

# BEGIN, viewer lookup, engagements (+count), clients, projects (+count),
# conversations (+count), orders (+count), messages (+count, senders joined in), COMMIT.
DASHBOARD_STATEMENTS = 9
# BEGIN, viewer, the conversation with its messages (senders joined in), COMMIT.
THREAD_STATEMENTS = 4


async def _dashboard_statements(gql: GraphQLClient, staff: Made, first: int) -> int:
    body = await gql.execute(DASHBOARD, {"first": first}, token=staff.token)
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["engagements"]["edges"]) == first
    return int(body["extensions"]["sqlStatements"])


async def test_dashboard_costs_the_same_statements_for_5_and_50_engagements(
    world: World, gql: GraphQLClient
) -> None:
    staff = await world.dashboard_of(50)
    assert await _dashboard_statements(gql, staff, 5) == DASHBOARD_STATEMENTS
    assert await _dashboard_statements(gql, staff, 50) == DASHBOARD_STATEMENTS


async def test_thread_page_costs_a_constant_number_of_statements(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    conversation = await world.conversation(await world.engagement(org, client))
    for n in range(70):
        await world.message(
            conversation, staff if n % 2 else client, at=BASE_TIME + timedelta(minutes=n)
        )
    first = await gql.execute(THREAD_PAGE, {"id": conversation.gid}, token=staff.token)
    cursor = first["data"]["conversation"]["messages"]["pageInfo"]["startCursor"]
    older = await gql.execute(
        THREAD_PAGE, {"id": conversation.gid, "before": cursor}, token=staff.token
    )
    assert len(older["data"]["conversation"]["messages"]["edges"]) == 30
    assert first["extensions"]["sqlStatements"] == THREAD_STATEMENTS
    assert older["extensions"]["sqlStatements"] == THREAD_STATEMENTS


NEWEST_AND_LAST = """query NewestAndLast { engagements(first: 3) { edges { node {
  conversations(first: 5) { edges { node { lastMessage { id }
    messages(last: 2) { totalCount edges { node { id } } } } } } } } } }"""
# BEGIN, viewer, engagements, conversations, messages (+count, lastMessage too), COMMIT.
NEWEST_AND_LAST_STATEMENTS = 6


async def test_last_message_and_the_newest_messages_are_read_by_one_statement(
    world: World, gql: GraphQLClient
) -> None:
    staff = await world.dashboard_of(3)
    body = await gql.execute(NEWEST_AND_LAST, token=staff.token)
    assert "errors" not in body, body["errors"]
    conversations = [
        conversation["node"]
        for engagement in body["data"]["engagements"]["edges"]
        for conversation in engagement["node"]["conversations"]["edges"]
    ]
    assert len(conversations) == 3
    for conversation in conversations:
        messages = conversation["messages"]
        assert messages["totalCount"] == 2
        assert conversation["lastMessage"]["id"] == messages["edges"][-1]["node"]["id"]
    assert body["extensions"]["sqlStatements"] == NEWEST_AND_LAST_STATEMENTS
