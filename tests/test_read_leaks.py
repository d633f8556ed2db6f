"""Nothing a viewer may not see leaks through any read path (domain rules §2).

Two kinds of outsider: a CLIENT looking at staff-only notes and other clients' work, and
a viewer of another organization. Each path of §2 is tested on its own.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from engagement_api.db.enums import ProposalStatus, Role
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World


@dataclass
class Tenant:
    staff: Made
    client: Made
    other_client: Made
    outsider: Made
    engagement: Made
    other_engagement: Made
    conversation: Made
    public: Made
    internal: Made
    order: Made
    draft: Made


@pytest.fixture
async def tenant(world: World) -> Tenant:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    other_client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    other_engagement = await world.engagement(org, other_client)
    conversation = await world.conversation(engagement)
    public = await world.message(conversation, staff, "public note", at=BASE_TIME)
    internal = await world.message(
        conversation, staff, "internal note", is_internal=True, at=BASE_TIME + timedelta(hours=1)
    )
    outsider_org = await world.organization("Outsider")
    return Tenant(
        staff=staff,
        client=client,
        other_client=other_client,
        outsider=await world.user(outsider_org, Role.ADMIN),
        engagement=engagement,
        other_engagement=other_engagement,
        conversation=conversation,
        public=public,
        internal=internal,
        order=await world.order(org, other_client, other_engagement),
        draft=await world.proposal(org, client, ProposalStatus.DRAFT),
    )


NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CONVERSATION = """query($id: ID!) { conversation(id: $id) {
  lastMessageAt lastMessage { content } messages { totalCount edges { node { content } } } } }"""


async def test_client_cannot_fetch_an_internal_message_by_node(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(NODE, {"id": tenant.internal.gid}, token=tenant.client.token)
    assert data["node"] is None


async def test_client_fetches_a_public_message_by_node(tenant: Tenant, gql: GraphQLClient) -> None:
    data = await gql.data(NODE, {"id": tenant.public.gid}, token=tenant.client.token)
    assert data["node"] == {"id": tenant.public.gid}


async def test_client_nodes_hide_internal_messages_and_other_clients_work(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    ids = [tenant.public.gid, tenant.internal.gid, tenant.other_engagement.gid, tenant.order.gid]
    data = await gql.data(NODES, {"ids": ids}, token=tenant.client.token)
    assert data["nodes"] == [{"id": tenant.public.gid}, None, None, None]


async def test_client_last_message_is_the_newest_public_one(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(CONVERSATION, {"id": tenant.conversation.gid}, token=tenant.client.token)
    assert data["conversation"]["lastMessage"] == {"content": "public note"}


async def test_client_last_message_at_ignores_internal_notes(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(CONVERSATION, {"id": tenant.conversation.gid}, token=tenant.client.token)
    assert data["conversation"]["lastMessageAt"] == "2026-01-01T00:00:00+00:00"


async def test_staff_last_message_at_includes_internal_notes(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(CONVERSATION, {"id": tenant.conversation.gid}, token=tenant.staff.token)
    assert data["conversation"]["lastMessageAt"] == "2026-01-01T01:00:00+00:00"
    assert data["conversation"]["lastMessage"] == {"content": "internal note"}


async def test_client_message_total_count_excludes_internal_notes(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(CONVERSATION, {"id": tenant.conversation.gid}, token=tenant.client.token)
    messages = data["conversation"]["messages"]
    assert messages["totalCount"] == 1
    assert [edge["node"]["content"] for edge in messages["edges"]] == ["public note"]


async def test_client_sees_only_its_own_engagements_and_their_count(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    query = "{ engagements { totalCount edges { node { id } } } }"
    data = await gql.data(query, token=tenant.client.token)
    assert data["engagements"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": tenant.engagement.gid}}],
    }


async def test_client_cannot_read_another_clients_engagement(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    query = "query($id: ID!) { engagement(id: $id) { id } }"
    data = await gql.data(query, {"id": tenant.other_engagement.gid}, token=tenant.client.token)
    assert data["engagement"] is None


async def test_client_never_sees_a_draft_proposal(tenant: Tenant, gql: GraphQLClient) -> None:
    data = await gql.data("{ proposals { totalCount } }", token=tenant.client.token)
    assert data["proposals"]["totalCount"] == 0
    node = await gql.data(NODE, {"id": tenant.draft.gid}, token=tenant.client.token)
    assert node["node"] is None


async def test_client_cannot_read_other_clients_as_users(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(NODE, {"id": tenant.other_client.gid}, token=tenant.client.token)
    assert data["node"] is None


async def test_other_organization_sees_nothing_by_node(tenant: Tenant, gql: GraphQLClient) -> None:
    for made in (tenant.engagement, tenant.conversation, tenant.public, tenant.order, tenant.staff):
        data = await gql.data(NODE, {"id": made.gid}, token=tenant.outsider.token)
        assert data["node"] is None, made


async def test_other_organization_cannot_read_a_conversation(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(
        CONVERSATION, {"id": tenant.conversation.gid}, token=tenant.outsider.token
    )
    assert data["conversation"] is None


async def test_other_organization_engagements_filter_by_foreign_client_is_empty(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    query = "query($c: ID) { engagements(clientId: $c) { totalCount } }"
    data = await gql.data(query, {"c": tenant.client.gid}, token=tenant.outsider.token)
    assert data["engagements"]["totalCount"] == 0


async def test_other_organization_counts_nothing_of_ours(
    tenant: Tenant, gql: GraphQLClient
) -> None:
    data = await gql.data(
        "{ engagements { totalCount } proposals { totalCount } services { id } }",
        token=tenant.outsider.token,
    )
    assert data == {
        "engagements": {"totalCount": 0},
        "proposals": {"totalCount": 0},
        "services": [],
    }


@pytest.mark.parametrize("bad_id", ["", "garbage", "RW5nYWdlbWVudDpub3QtYS11dWlk"])
async def test_malformed_ids_read_as_null(tenant: Tenant, gql: GraphQLClient, bad_id: str) -> None:
    query = "query($id: ID!) { node(id: $id) { id } engagement(id: $id) { id } }"
    data = await gql.data(query, {"id": bad_id}, token=tenant.staff.token)
    assert data == {"node": None, "engagement": None}


async def test_an_id_of_another_type_reads_as_null(tenant: Tenant, gql: GraphQLClient) -> None:
    query = "query($id: ID!) { engagement(id: $id) { id } }"
    data = await gql.data(query, {"id": tenant.conversation.gid}, token=tenant.staff.token)
    assert data["engagement"] is None
