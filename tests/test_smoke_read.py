from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import World


async def test_staff_reads_engagement_graph(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client, name="E1")
    await world.project(engagement)
    conversation = await world.conversation(engagement, subject="Hi")
    await world.message(conversation, staff, "public")
    await world.message(conversation, staff, "internal", is_internal=True)
    query = """{ viewer { role user { name } organization { name } }
      engagements(first: 5) { totalCount edges { cursor node { id name client { name }
        projects { totalCount edges { node { name phase } } }
        conversations { edges { node { subject lastMessageAt lastMessage { content }
          messages(last: 10) { totalCount edges { node { content isInternal sender { name } } } } } } }
        orders { totalCount } } } } }"""
    data = await gql.data(query, token=staff.token)
    print(data)
    assert data["engagements"]["totalCount"] == 1
    as_client = await gql.data(query, token=client.token)
    print(as_client)
    messages = as_client["engagements"]["edges"][0]["node"]["conversations"]["edges"][0]["node"]
    assert [e["node"]["content"] for e in messages["messages"]["edges"]] == ["public"]
