"""signProposal (domain rules §3): one transaction signs the proposal, creates its order and
its engagement and links them both ways; of concurrent signings exactly one wins."""

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import OrderStatus, ProposalStatus
from engagement_api.db.models import Engagement, Order, Proposal
from tests.conftest import GraphQLClient
from tests.factories import Made, World
from tests.mutations import cast, codes, count_where, error_fields, mutate, stored

SIGNED = (
    "proposal { id status signedAt convertedOrder { id } convertedEngagement { id } } "
    "order { id amountCents currency client { id } engagement { id } } "
    "engagement { id name status client { id } proposal { id } }"
)
CONCURRENT_SIGNINGS = 8
ROUNDS = 20


async def _sign(gql: GraphQLClient, viewer: Made, proposal: Made) -> dict[str, Any]:
    return await mutate(
        gql, "signProposal", {"proposalId": proposal.gid}, token=viewer.token, select=SIGNED
    )


async def _conversions(owner_engine: AsyncEngine, proposal: Made) -> tuple[int, int]:
    """(orders, engagements) made from `proposal`."""
    return (
        await count_where(owner_engine, Order, Order.proposal_id == proposal.id),
        await count_where(owner_engine, Engagement, Engagement.proposal_id == proposal.id),
    )


@pytest.mark.parametrize("signer", ["client", "staff"])
async def test_signing_creates_the_order_and_the_engagement_linked_both_ways(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, signer: str
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, title="Shop build", amount_cents=750_000)
    payload = await _sign(gql, getattr(c, signer), proposal)
    assert payload["errors"] == []
    assert payload["proposal"]["status"] == "SIGNED"
    assert payload["order"]["engagement"]["id"] == payload["engagement"]["id"]
    assert payload["engagement"]["proposal"]["id"] == proposal.gid
    stored_proposal = await stored(owner_engine, Proposal, proposal.id)
    assert stored_proposal.status is ProposalStatus.SIGNED
    assert stored_proposal.signed_at is not None
    order = await stored(owner_engine, Order, stored_proposal.converted_order_id)
    engagement = await stored(owner_engine, Engagement, stored_proposal.converted_engagement_id)
    assert (order.org_id, order.client_id, order.proposal_id, order.engagement_id) == (
        c.org.id,
        c.client.id,
        proposal.id,
        engagement.id,
    )
    assert (order.amount_cents, order.currency, order.status) == (
        750_000,
        "EUR",
        OrderStatus.PENDING,
    )
    assert (engagement.org_id, engagement.client_id, engagement.proposal_id, engagement.name) == (
        c.org.id,
        c.client.id,
        proposal.id,
        "Shop build",
    )


async def test_signing_a_signed_proposal_is_a_conflict(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client)
    await _sign(gql, c.client, proposal)
    payload = await _sign(gql, c.staff, proposal)
    assert (codes(payload), error_fields(payload)) == (["CONFLICT"], [["input", "proposalId"]])
    assert await _conversions(owner_engine, proposal) == (1, 1)


async def test_a_clients_draft_proposal_does_not_exist_for_it(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, ProposalStatus.DRAFT)
    payload = await _sign(gql, c.client, proposal)
    assert codes(payload) == ["NOT_FOUND"]
    assert (await stored(owner_engine, Proposal, proposal.id)).status is ProposalStatus.DRAFT
    assert await _conversions(owner_engine, proposal) == (0, 0)


@pytest.mark.parametrize("status", [ProposalStatus.DRAFT, ProposalStatus.DECLINED])
async def test_signing_an_unsent_or_declined_proposal_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, status: ProposalStatus
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client, status)
    payload = await _sign(gql, c.staff, proposal)
    assert codes(payload) == ["INVALID_TRANSITION"]
    assert (await stored(owner_engine, Proposal, proposal.id)).status is status
    assert await _conversions(owner_engine, proposal) == (0, 0)


async def test_a_client_cannot_sign_another_clients_proposal(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client)
    payload = await _sign(gql, c.other_client, proposal)
    assert codes(payload) == ["NOT_FOUND"]
    assert (await stored(owner_engine, Proposal, proposal.id)).status is ProposalStatus.SENT
    assert await _conversions(owner_engine, proposal) == (0, 0)


async def test_signing_a_proposal_converted_by_hand_reuses_its_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    proposal = await world.proposal(c.org, c.client)
    created = await mutate(
        gql,
        "createEngagement",
        {"clientId": c.client.gid, "proposalId": proposal.gid},
        token=c.staff.token,
        select="engagement { id }",
    )
    payload = await _sign(gql, c.client, proposal)
    assert payload["engagement"]["id"] == created["engagement"]["id"]
    assert payload["order"]["engagement"]["id"] == created["engagement"]["id"]
    assert await _conversions(owner_engine, proposal) == (1, 1)


async def test_concurrent_signings_yield_one_order_and_one_engagement(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    signers = [c.client, c.staff, c.admin]
    for _ in range(ROUNDS):
        proposal = await world.proposal(c.org, c.client)
        payloads = await asyncio.gather(
            *(_sign(gql, signers[i % len(signers)], proposal) for i in range(CONCURRENT_SIGNINGS))
        )
        outcomes = sorted(tuple(codes(payload)) for payload in payloads)
        assert outcomes == [()] + [("CONFLICT",)] * (CONCURRENT_SIGNINGS - 1)
        assert await _conversions(owner_engine, proposal) == (1, 1)
        signed = await stored(owner_engine, Proposal, proposal.id)
        (winner,) = [payload for payload in payloads if not payload["errors"]]
        assert winner["proposal"]["convertedOrder"]["id"] == winner["order"]["id"]
        assert signed.status is ProposalStatus.SIGNED
