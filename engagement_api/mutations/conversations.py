"""Conversation mutations: start (with an optional first message), open and close."""

from typing import Any

import strawberry

from engagement_api.context import RequestContext
from engagement_api.db import visibility, writes
from engagement_api.db.enums import EngagementStatus
from engagement_api.db.models import Conversation
from engagement_api.mutations.common import (
    lock_engagement_taking_work,
    lock_visible,
    mutate,
    one,
    status_values,
    write_values,
)
from engagement_api.mutations.fields import mutation_field
from engagement_api.mutations.lifecycles import CONVERSATION
from engagement_api.mutations.messages import insert_message
from engagement_api.mutations.payloads import UserError, errors_field
from engagement_api.mutations.refusals import forbidden
from engagement_api.mutations.validation import InputModel
from engagement_api.mutations.validation.fields import (
    Content,
    ConversationId,
    EngagementId,
    OptionalName,
)
from engagement_api.schema.enums import ConversationStatus
from engagement_api.schema.permissions import IsStaff
from engagement_api.schema.types.conversation import Conversation as ConversationType


@strawberry.input
class StartConversationInput:
    engagement_id: strawberry.ID
    subject: str | None = strawberry.UNSET
    content: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Optional first message, posted in the same transaction.",
    )


@strawberry.input
class SetConversationStatusInput:
    id: strawberry.ID
    status: ConversationStatus


class StartConversation(InputModel):
    engagement_id: EngagementId
    subject: OptionalName | None = None
    content: Content | None = None


class SetConversationStatus(InputModel):
    id: ConversationId
    status: ConversationStatus


@strawberry.type
class ConversationPayload:
    conversation: ConversationType | None = None
    errors: list[UserError] = errors_field()


@strawberry.type
class ConversationMutations:
    @mutation_field(ConversationPayload, description="A CLIENT: on its own ACTIVE engagement.")
    async def start_conversation(
        self, info: strawberry.Info, input: StartConversationInput
    ) -> ConversationPayload:
        return await start_conversation(info, input)

    @mutation_field(ConversationPayload, IsStaff, model=SetConversationStatus)
    async def set_conversation_status(
        self, info: strawberry.Info, input: SetConversationStatusInput
    ) -> ConversationPayload:
        return await set_conversation_status(info, input)


Info = strawberry.Info[Any, Any]


def _payload(row: Any) -> ConversationPayload:
    return ConversationPayload(conversation=ConversationType.from_row(row))


async def start_conversation(info: Info, input: StartConversationInput) -> ConversationPayload:
    return await mutate(info, ConversationPayload, StartConversation, input, _start)


async def _start(context: RequestContext, data: StartConversation) -> ConversationPayload:
    engagement = await lock_engagement_taking_work(context, data.engagement_id, "conversations")
    if context.scope.is_client and engagement.status is not EngagementStatus.ACTIVE:
        raise forbidden("A CLIENT starts conversations on ACTIVE engagements only.")
    row = await one(
        context,
        writes.create(
            Conversation,
            org_id=engagement.org_id,
            engagement_id=engagement.id,
            subject=data.subject,
        ),
    )
    if data.content is not None:
        _, row = await insert_message(context, row.id, data.content)
    return _payload(row)


async def set_conversation_status(
    info: Info, input: SetConversationStatusInput
) -> ConversationPayload:
    return await mutate(info, ConversationPayload, SetConversationStatus, input, _set_status)


async def _set_status(context: RequestContext, data: SetConversationStatus) -> ConversationPayload:
    row = await lock_visible(
        context, Conversation, visibility.conversations, data.id, type_name="Conversation"
    )
    values = status_values(CONVERSATION, row.status, data.status)
    return _payload(await write_values(context, Conversation, row, values))
