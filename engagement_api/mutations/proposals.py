"""Proposal signing (domain rules §3): one transaction signs the proposal, creates its order
and its engagement, and links them both ways. Of concurrent signings exactly one wins."""

import uuid
from typing import Any, cast

import strawberry

from engagement_api.context import RequestContext
from engagement_api.db import visibility, writes
from engagement_api.db.enums import ProposalStatus
from engagement_api.db.models import Engagement, Order, Proposal
from engagement_api.db.queries import by_ids
from engagement_api.db.rows import EngagementRow, OrderRow, ProposalRow
from engagement_api.mutations.common import mutate, one, write_values
from engagement_api.mutations.fields import mutation_field
from engagement_api.mutations.payloads import UserError, errors_field
from engagement_api.mutations.refusals import (
    INPUT,
    ErrorCode,
    Refusal,
    invalid_transition,
    not_found,
    refuse,
)
from engagement_api.mutations.validation import InputModel
from engagement_api.mutations.validation.fields import ProposalId
from engagement_api.schema.types.engagement import Engagement as EngagementType
from engagement_api.schema.types.order import Order as OrderType
from engagement_api.schema.types.proposal import Proposal as ProposalType


@strawberry.input
class SignProposalInput:
    proposal_id: strawberry.ID


class SignProposal(InputModel):
    proposal_id: ProposalId


@strawberry.type
class SignProposalPayload:
    proposal: ProposalType | None = None
    order: OrderType | None = None
    engagement: EngagementType | None = None
    errors: list[UserError] = errors_field()


@strawberry.type
class ProposalMutations:
    @mutation_field(
        SignProposalPayload,
        description=(
            "Signs a proposal: creates its order and its engagement in one transaction. "
            "A CLIENT: its own SENT proposal."
        ),
    )
    async def sign_proposal(
        self, info: strawberry.Info, input: SignProposalInput
    ) -> SignProposalPayload:
        return await sign_proposal(info, input)


Info = strawberry.Info[Any, Any]
FIELD = (*INPUT, "proposalId")


async def sign_proposal(info: Info, input: SignProposalInput) -> SignProposalPayload:
    return await mutate(info, SignProposalPayload, SignProposal, input, _sign)


async def _sign(context: RequestContext, data: SignProposal) -> SignProposalPayload:
    row = (
        await context.db.execute(*writes.sign_sent_proposal(context.scope, data.proposal_id))
    ).first()
    if row is None:
        raise await _why_not_signed(context, data.proposal_id)
    signed = cast(ProposalRow, row)
    engagement = await _engagement_for(context, signed)
    written = await one(
        context,
        writes.create(
            Order,
            org_id=signed.org_id,
            client_id=signed.client_id,
            proposal_id=signed.id,
            engagement_id=engagement.id,
            amount_cents=signed.amount_cents,
            currency=signed.currency,
        ),
    )
    order = cast(OrderRow, written)
    proposal = await write_values(
        context,
        Proposal,
        signed,
        {"converted_order_id": order.id, "converted_engagement_id": engagement.id},
    )
    return SignProposalPayload(
        proposal=ProposalType.from_row(proposal),
        order=OrderType.from_row(order),
        engagement=EngagementType.from_row(engagement),
    )


async def _engagement_for(context: RequestContext, proposal: ProposalRow) -> EngagementRow:
    """The engagement the proposal was already converted into (by `createEngagement`), or a
    new one for its client, named after it."""
    if proposal.converted_engagement_id is not None:
        statement = by_ids(
            Engagement, visibility.engagements, context.scope, [proposal.converted_engagement_id]
        )
        existing = (await context.db.execute(statement)).first()
        if existing is not None:
            return cast(EngagementRow, existing)
    created = await one(
        context,
        writes.create(
            Engagement,
            org_id=proposal.org_id,
            client_id=proposal.client_id,
            name=proposal.title,
            proposal_id=proposal.id,
        ),
    )
    return cast(EngagementRow, created)


async def _why_not_signed(context: RequestContext, proposal_id: uuid.UUID) -> Refusal:
    """Read after the conditional update failed (so after any concurrent signing committed)."""
    statement = by_ids(Proposal, visibility.proposals, context.scope, [proposal_id])
    current = (await context.db.execute(statement)).first()
    if current is None:
        return not_found("Proposal", FIELD)
    if current.status is ProposalStatus.SIGNED:
        return refuse(ErrorCode.CONFLICT, "The proposal is already signed.", FIELD)
    return invalid_transition(
        f"Only a SENT proposal can be signed; this one is {current.status.name}.", FIELD
    )
