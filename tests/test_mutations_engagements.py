"""createEngagement, updateEngagement, setEngagementStatus, deleteEngagement through the API,
each checked in the database afterwards."""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import EngagementStatus, ProposalStatus, Role
from engagement_api.db.models import Conversation, Engagement, Message, Order, Project, Proposal
from engagement_api.schema.ids import parse_global_id
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, World
from tests.mutations import Cast, cast, codes, count_where, error_fields, mutate, row_of

ENGAGEMENT = "engagement { id name status closedAt updatedAt client { id } proposal { id } }"


async def test_staff_creates_an_engagement_for_a_client(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createEngagement",
        {"clientId": c.client.gid, "name": "  Retainer  "},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert payload["errors"] == []
    assert payload["engagement"]["client"]["id"] == c.client.gid
    engagement_id = parse_global_id(payload["engagement"]["id"], "Engagement")
    assert engagement_id is not None
    row = await row_of(owner_engine, Engagement, engagement_id)
    assert row is not None
    assert (row.org_id, row.client_id, row.name, row.status, row.closed_at) == (
        c.org.id,
        c.client.id,
        "Retainer",
        EngagementStatus.ACTIVE,
        None,
    )


async def test_a_client_cannot_create_an_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql, "createEngagement", {"clientId": c.client.gid}, token=c.client.token, select=ENGAGEMENT
    )
    assert (payload["engagement"], codes(payload)) == (None, ["FORBIDDEN"])
    assert await count_where(owner_engine, Engagement, Engagement.org_id == c.org.id) == 1


async def test_creating_an_engagement_for_a_non_client_is_invalid(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql, "createEngagement", {"clientId": c.staff.gid}, token=c.admin.token, select=ENGAGEMENT
    )
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [["input", "clientId"]])
    assert await count_where(owner_engine, Engagement, Engagement.org_id == c.org.id) == 1


async def test_creating_an_engagement_for_another_organizations_client_is_not_found(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    stranger = await world.user(await world.organization(), Role.CLIENT)
    payload = await mutate(
        gql, "createEngagement", {"clientId": stranger.gid}, token=c.staff.token, select=ENGAGEMENT
    )
    assert (codes(payload), error_fields(payload)) == (["NOT_FOUND"], [["input", "clientId"]])
    assert await count_where(owner_engine, Engagement, Engagement.client_id == stranger.id) == 0


async def _create_for_client(gql: GraphQLClient, c: Cast, proposal: str) -> dict[str, Any]:
    """createEngagement by STAFF for the cast's client, from `proposal`."""
    return await mutate(
        gql,
        "createEngagement",
        {"clientId": c.client.gid, "proposalId": proposal},
        token=c.staff.token,
        select=ENGAGEMENT,
    )


async def test_creating_an_engagement_from_a_proposal_links_the_proposal(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, ProposalStatus.SENT)
    payload = await _create_for_client(gql, c, proposal.gid)
    assert payload["engagement"]["proposal"]["id"] == proposal.gid
    engagement_id = parse_global_id(payload["engagement"]["id"], "Engagement")
    stored = await row_of(owner_engine, Proposal, proposal.id)
    assert stored is not None
    assert stored.converted_engagement_id == engagement_id


async def test_creating_an_engagement_from_another_clients_proposal_is_invalid(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.other_client)
    payload = await _create_for_client(gql, c, proposal.gid)
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [["input", "proposalId"]])
    assert await count_where(owner_engine, Engagement, Engagement.proposal_id == proposal.id) == 0


async def test_creating_an_engagement_from_a_converted_proposal_is_invalid(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, converted_engagement_id=c.engagement.id)
    payload = await _create_for_client(gql, c, proposal.gid)
    assert codes(payload) == ["INVALID"]
    assert await count_where(owner_engine, Engagement, Engagement.org_id == c.org.id) == 1


async def test_a_signed_proposal_stays_converted_after_its_engagement_is_deleted(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """The hard delete clears the proposal's `converted_engagement_id` and keeps its order:
    the proposal was converted, and a new engagement cannot be made from it again."""
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, ProposalStatus.SENT)
    signed = await mutate(
        gql,
        "signProposal",
        {"proposalId": proposal.gid},
        token=c.client.token,
        select="engagement { id }",
    )
    deleted = await mutate(
        gql, "deleteEngagement", {"id": signed["engagement"]["id"]}, token=c.admin.token
    )
    assert (signed["errors"], deleted["errors"]) == ([], [])
    payload = await _create_for_client(gql, c, proposal.gid)
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [["input", "proposalId"]])
    assert await count_where(owner_engine, Engagement, Engagement.proposal_id == proposal.id) == 0
    stored = await row_of(owner_engine, Proposal, proposal.id)
    assert stored is not None
    assert (stored.converted_engagement_id, stored.converted_order_id is None) == (None, False)


async def test_an_unsigned_proposal_whose_engagement_was_deleted_converts_again(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """Deleting the engagement cleared the conversion of a proposal never signed: it may
    become an engagement again, one at a time."""
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, ProposalStatus.SENT)
    first = await _create_for_client(gql, c, proposal.gid)
    deleted = await mutate(
        gql, "deleteEngagement", {"id": first["engagement"]["id"]}, token=c.admin.token
    )
    again = await _create_for_client(gql, c, proposal.gid)
    third = await _create_for_client(gql, c, proposal.gid)
    assert (first["errors"], deleted["errors"], again["errors"]) == ([], [], [])
    assert codes(third) == ["INVALID"]
    stored = await row_of(owner_engine, Proposal, proposal.id)
    assert stored is not None
    engagement_id = parse_global_id(again["engagement"]["id"], "Engagement")
    assert (stored.converted_engagement_id, stored.converted_order_id) == (engagement_id, None)


async def test_an_unauthenticated_mutation_is_a_top_level_error_and_writes_nothing(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    body = await gql.execute(
        "mutation M($input: CreateEngagementInput!) { createEngagement(input: $input) "
        "{ engagement { id } errors { code } } }",
        {"input": {"clientId": c.client.gid}},
    )
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert await count_where(owner_engine, Engagement, Engagement.org_id == c.org.id) == 1


async def test_renaming_an_engagement_moves_updated_at(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    before = await row_of(owner_engine, Engagement, c.engagement.id)
    payload = await mutate(
        gql,
        "updateEngagement",
        {"id": c.engagement.gid, "name": " Renamed "},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert payload["engagement"]["name"] == "Renamed"
    after = await row_of(owner_engine, Engagement, c.engagement.id)
    assert before is not None
    assert after is not None
    assert after.name == "Renamed"
    assert after.updated_at > before.updated_at


async def test_setting_an_engagements_name_to_its_value_changes_nothing(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    before = await row_of(owner_engine, Engagement, c.engagement.id)
    payload = await mutate(
        gql,
        "updateEngagement",
        {"id": c.engagement.gid, "name": "Work"},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert payload["errors"] == []
    assert await row_of(owner_engine, Engagement, c.engagement.id) == before


async def test_a_null_name_clears_an_engagements_name(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    await mutate(
        gql,
        "updateEngagement",
        {"id": c.engagement.gid, "name": None},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    after = await row_of(owner_engine, Engagement, c.engagement.id)
    assert after is not None
    assert after.name is None


async def test_an_absent_name_leaves_an_engagements_name(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    before = await row_of(owner_engine, Engagement, c.engagement.id)
    await mutate(
        gql, "updateEngagement", {"id": c.engagement.gid}, token=c.staff.token, select=ENGAGEMENT
    )
    assert await row_of(owner_engine, Engagement, c.engagement.id) == before


async def test_a_client_cannot_update_its_own_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "updateEngagement",
        {"id": c.engagement.gid, "name": "Mine"},
        token=c.client.token,
        select=ENGAGEMENT,
    )
    assert codes(payload) == ["FORBIDDEN"]
    after = await row_of(owner_engine, Engagement, c.engagement.id)
    assert after is not None
    assert after.name == "Work"


async def test_staff_cannot_update_another_organizations_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    other = await cast(world)
    payload = await mutate(
        gql,
        "updateEngagement",
        {"id": other.engagement.gid, "name": "Taken"},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert (codes(payload), error_fields(payload)) == (["NOT_FOUND"], [["input", "id"]])
    after = await row_of(owner_engine, Engagement, other.engagement.id)
    assert after is not None
    assert after.name == "Work"


MOVES = [
    (EngagementStatus.ACTIVE, EngagementStatus.PAUSED, False),
    (EngagementStatus.PAUSED, EngagementStatus.ACTIVE, False),
    (EngagementStatus.ACTIVE, EngagementStatus.CLOSED, True),
    (EngagementStatus.PAUSED, EngagementStatus.CLOSED, True),
    (EngagementStatus.CLOSED, EngagementStatus.ACTIVE, False),
]


@pytest.mark.parametrize(("current", "target", "closed"), MOVES)
async def test_engagement_status_moves_and_closed_at(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    current: EngagementStatus,
    target: EngagementStatus,
    closed: bool,
) -> None:
    c = await cast(world)
    engagement = await world.engagement(
        c.org,
        c.client,
        current,
        closed_at=None if current is not EngagementStatus.CLOSED else BASE_TIME,
    )
    before = await row_of(owner_engine, Engagement, engagement.id)
    payload = await mutate(
        gql,
        "setEngagementStatus",
        {"id": engagement.gid, "status": target.name},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert payload["errors"] == []
    after = await row_of(owner_engine, Engagement, engagement.id)
    assert before is not None
    assert after is not None
    assert after.status is target
    assert (after.closed_at is not None) is closed
    assert after.updated_at > before.updated_at
    assert payload["engagement"]["status"] == target.name


async def test_a_closed_engagement_cannot_be_paused(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    engagement = await world.engagement(
        c.org, c.client, EngagementStatus.CLOSED, closed_at=BASE_TIME
    )
    before = await row_of(owner_engine, Engagement, engagement.id)
    payload = await mutate(
        gql,
        "setEngagementStatus",
        {"id": engagement.gid, "status": "PAUSED"},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert (codes(payload), error_fields(payload)) == (
        ["INVALID_TRANSITION"],
        [["input", "status"]],
    )
    assert await row_of(owner_engine, Engagement, engagement.id) == before


@pytest.mark.parametrize("status", list(EngagementStatus))
async def test_setting_an_engagements_current_status_is_a_no_op(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, status: EngagementStatus
) -> None:
    c = await cast(world)
    engagement = await world.engagement(c.org, c.client, status)
    before = await row_of(owner_engine, Engagement, engagement.id)
    payload = await mutate(
        gql,
        "setEngagementStatus",
        {"id": engagement.gid, "status": status.name},
        token=c.staff.token,
        select=ENGAGEMENT,
    )
    assert payload["errors"] == []
    assert await row_of(owner_engine, Engagement, engagement.id) == before


async def test_a_client_cannot_set_an_engagements_status(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "setEngagementStatus",
        {"id": c.engagement.gid, "status": "CLOSED"},
        token=c.client.token,
        select=ENGAGEMENT,
    )
    assert codes(payload) == ["FORBIDDEN"]
    after = await row_of(owner_engine, Engagement, c.engagement.id)
    assert after is not None
    assert after.status is EngagementStatus.ACTIVE


async def test_an_admin_deletes_an_engagement_with_its_work_and_keeps_its_records(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement)
    conversation = await world.conversation(c.engagement)
    message = await world.message(conversation, c.staff)
    order = await world.order(c.org, c.client, c.engagement)
    proposal = await world.proposal(
        c.org, c.client, ProposalStatus.SIGNED, converted_engagement_id=c.engagement.id
    )
    order_before = await row_of(owner_engine, Order, order.id)
    proposal_before = await row_of(owner_engine, Proposal, proposal.id)
    assert order_before is not None
    assert proposal_before is not None
    payload = await mutate(
        gql, "deleteEngagement", {"id": c.engagement.gid}, token=c.admin.token, select="deletedId"
    )
    assert (payload["deletedId"], payload["errors"]) == (c.engagement.gid, [])
    assert await row_of(owner_engine, Engagement, c.engagement.id) is None
    assert await row_of(owner_engine, Project, project.id) is None
    assert await row_of(owner_engine, Conversation, conversation.id) is None
    assert await row_of(owner_engine, Message, message.id) is None
    kept_order = await row_of(owner_engine, Order, order.id)
    kept_proposal = await row_of(owner_engine, Proposal, proposal.id)
    assert kept_order is not None
    assert kept_order.engagement_id is None
    assert kept_order.updated_at > order_before.updated_at  # unlinking is a change of the row
    assert kept_proposal is not None
    assert kept_proposal.converted_engagement_id is None
    assert kept_proposal.updated_at > proposal_before.updated_at


@pytest.mark.parametrize("role", ["staff", "client"])
async def test_only_an_admin_deletes_an_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, role: str
) -> None:
    c = await cast(world)
    viewer = getattr(c, role)
    payload = await mutate(
        gql, "deleteEngagement", {"id": c.engagement.gid}, token=viewer.token, select="deletedId"
    )
    assert (payload["deletedId"], codes(payload)) == (None, ["FORBIDDEN"])
    assert await row_of(owner_engine, Engagement, c.engagement.id) is not None


async def test_an_admin_cannot_delete_another_organizations_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    other = await cast(world)
    payload = await mutate(
        gql,
        "deleteEngagement",
        {"id": other.engagement.gid},
        token=c.admin.token,
        select="deletedId",
    )
    assert codes(payload) == ["NOT_FOUND"]
    assert await row_of(owner_engine, Engagement, other.engagement.id) is not None
