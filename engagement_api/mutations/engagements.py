"""Engagement mutations: create, update, set status, and the ADMIN's hard delete."""

from typing import Any

import strawberry

from engagement_api.context import RequestContext
from engagement_api.db import outbox, visibility, writes
from engagement_api.db.enums import Role
from engagement_api.db.models import Engagement, Proposal
from engagement_api.db.writes import Lock
from engagement_api.loaders import UserByIdLoader
from engagement_api.mutations.common import (
    load_visible,
    lock_visible,
    mutate,
    one,
    status_values,
    update_changed,
    write_values,
)
from engagement_api.mutations.fields import DeleteInput, mutation_field
from engagement_api.mutations.lifecycles import ENGAGEMENT
from engagement_api.mutations.payloads import DeletePayload, UserError, errors_field
from engagement_api.mutations.refusals import INPUT, ErrorCode, refuse
from engagement_api.mutations.validation import InputModel
from engagement_api.mutations.validation.fields import (
    EngagementId,
    OptionalName,
    ProposalId,
    UserId,
)
from engagement_api.schema.enums import EngagementStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.permissions import IsAdmin, IsStaff
from engagement_api.schema.types.engagement import Engagement as EngagementType


@strawberry.input
class CreateEngagementInput:
    client_id: strawberry.ID
    name: str | None = strawberry.UNSET
    proposal_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class UpdateEngagementInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET


@strawberry.input
class SetEngagementStatusInput:
    id: strawberry.ID
    status: EngagementStatus


class CreateEngagement(InputModel):
    client_id: UserId
    name: OptionalName | None = None
    proposal_id: ProposalId | None = None


class UpdateEngagement(InputModel):
    id: EngagementId
    name: OptionalName | None = None


class SetEngagementStatus(InputModel):
    id: EngagementId
    status: EngagementStatus


class DeleteEngagement(InputModel):
    id: EngagementId


@strawberry.type
class EngagementPayload:
    engagement: EngagementType | None = None
    errors: list[UserError] = errors_field()


@strawberry.type
class EngagementMutations:
    @mutation_field(EngagementPayload, IsStaff, model=CreateEngagement)
    async def create_engagement(
        self, info: strawberry.Info, input: CreateEngagementInput
    ) -> EngagementPayload:
        return await create_engagement(info, input)

    @mutation_field(EngagementPayload, IsStaff, model=UpdateEngagement)
    async def update_engagement(
        self, info: strawberry.Info, input: UpdateEngagementInput
    ) -> EngagementPayload:
        return await update_engagement(info, input)

    @mutation_field(EngagementPayload, IsStaff, model=SetEngagementStatus)
    async def set_engagement_status(
        self, info: strawberry.Info, input: SetEngagementStatusInput
    ) -> EngagementPayload:
        return await set_engagement_status(info, input)

    @mutation_field(
        DeletePayload, IsAdmin, "A hard delete; its orders stay, unlinked.", model=DeleteEngagement
    )
    async def delete_engagement(self, info: strawberry.Info, input: DeleteInput) -> DeletePayload:
        return await delete_engagement(info, input)


Info = strawberry.Info[Any, Any]


def _payload(row: Any) -> EngagementPayload:
    return EngagementPayload(engagement=EngagementType.from_row(row))


async def _lock(context: RequestContext, data: Any, lock: Lock = Lock.UPDATE) -> Any:
    return await lock_visible(
        context, Engagement, visibility.engagements, data.id, type_name="Engagement", lock=lock
    )


async def create_engagement(info: Info, input: CreateEngagementInput) -> EngagementPayload:
    return await mutate(info, EngagementPayload, CreateEngagement, input, _create)


async def _create(context: RequestContext, data: CreateEngagement) -> EngagementPayload:
    client_field = (*INPUT, "clientId")
    client = await load_visible(
        context, UserByIdLoader, data.client_id, type_name="User", field=client_field
    )
    if client.role is not Role.CLIENT:
        raise refuse(ErrorCode.INVALID, "The user is not a CLIENT.", client_field)
    proposal = await _convertible_proposal(context, data)
    row = await one(
        context,
        writes.create(
            Engagement,
            org_id=context.scope.org_id,
            client_id=client.id,
            name=data.name,
            proposal_id=data.proposal_id,
        ),
    )
    if proposal is not None:
        await context.db.execute(
            *writes.update(Proposal, proposal.id, converted_engagement_id=row.id)
        )
    return _payload(row)


async def _convertible_proposal(context: RequestContext, data: CreateEngagement) -> Any:
    """The proposal the engagement is created from: the same client's, not yet converted."""
    if data.proposal_id is None:
        return None
    field = (*INPUT, "proposalId")
    proposal = await lock_visible(
        context,
        Proposal,
        visibility.proposals,
        data.proposal_id,
        type_name="Proposal",
        field=field,
    )
    if proposal.client_id != data.client_id:
        raise refuse(ErrorCode.INVALID, "The proposal is addressed to another client.", field)
    # A signed proposal was converted into its order too: the order outlives a hard delete
    # of the engagement, which clears `converted_engagement_id` only.
    if proposal.converted_engagement_id is not None or proposal.converted_order_id is not None:
        raise refuse(ErrorCode.INVALID, "The proposal is already converted.", field)
    return proposal


async def update_engagement(info: Info, input: UpdateEngagementInput) -> EngagementPayload:
    return await mutate(info, EngagementPayload, UpdateEngagement, input, _update)


async def _update(context: RequestContext, data: UpdateEngagement) -> EngagementPayload:
    row = await _lock(context, data)
    values = {"name": data.name} if data.given("name") else {}
    return _payload(await update_changed(context, Engagement, row, values))


async def set_engagement_status(info: Info, input: SetEngagementStatusInput) -> EngagementPayload:
    return await mutate(info, EngagementPayload, SetEngagementStatus, input, _set_status)


async def _set_status(context: RequestContext, data: SetEngagementStatus) -> EngagementPayload:
    row = await _lock(context, data)
    values = status_values(ENGAGEMENT, row.status, data.status)
    return _payload(await write_values(context, Engagement, row, values))


async def delete_engagement(info: Info, input: DeleteInput) -> DeletePayload:
    return await mutate(info, DeletePayload, DeleteEngagement, input, _delete)


async def _delete(context: RequestContext, data: DeleteEngagement) -> DeletePayload:
    """A hard delete: projects, conversations and messages go by cascade; its orders and
    the proposals converted into it stay, unlinked (a change: their `updated_at` moves)."""
    await context.db.execute(*writes.lock_converted_proposals(data.id))
    row = await _lock(context, data, Lock.DELETE)
    await context.db.execute(*writes.unlink_orders(row.id))
    await context.db.execute(*writes.unlink_converted_proposals(row.id))
    lock, record = outbox.record_cascade(row.id, context.settings.broadcast_channel)
    await context.db.execute(*lock)
    context.events.extend(outbox.announcements((await context.db.execute(*record)).all()))
    await context.db.execute(*writes.delete_engagement(row.id))
    return DeletePayload(deleted_id=strawberry.ID(to_global_id("Engagement", row.id)))
