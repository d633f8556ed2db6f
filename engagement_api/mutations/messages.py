"""Message mutations: post, edit, soft delete; each writes its event to the outbox."""

from typing import Annotated, Any, cast

import strawberry
from pydantic import Field

from engagement_api.context import RequestContext
from engagement_api.db import outbox, visibility, writes
from engagement_api.db.enums import ConversationStatus, EngagementStatus
from engagement_api.db.models import Conversation, Message
from engagement_api.db.prepared import Row
from engagement_api.db.rows import StoredMessageRow
from engagement_api.events import MessageEventKind
from engagement_api.mutations.common import (
    lock_visible,
    mutate,
    one,
    require_author_or_admin,
    update_changed,
)
from engagement_api.mutations.fields import DeleteInput, mutation_field
from engagement_api.mutations.payloads import DeletePayload, UserError, errors_field
from engagement_api.mutations.refusals import INPUT, forbidden, invalid_transition
from engagement_api.mutations.validation import InputModel
from engagement_api.mutations.validation.fields import (
    ATTACHMENTS_MAX,
    Content,
    ConversationId,
    MessageId,
    Name,
    Size,
    Url,
)
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.types.message import Message as MessageType


@strawberry.input
class AttachmentInput:
    name: str
    url: str
    size: int


@strawberry.input
class PostMessageInput:
    conversation_id: strawberry.ID
    content: str
    is_internal: bool | None = False
    attachments: list[AttachmentInput] | None = strawberry.UNSET


@strawberry.input
class EditMessageInput:
    id: strawberry.ID
    content: str


class Attachment(InputModel):
    name: Name
    url: Url
    size: Size


class PostMessage(InputModel):
    conversation_id: ConversationId
    content: Content
    is_internal: bool | None = False
    attachments: Annotated[list[Attachment], Field(max_length=ATTACHMENTS_MAX)] | None = None

    @property
    def internal(self) -> bool:
        return bool(self.is_internal)

    def attachment_values(self) -> list[dict[str, object]]:
        return [item.model_dump() for item in self.attachments or ()]


class EditMessage(InputModel):
    id: MessageId
    content: Content


class DeleteMessage(InputModel):
    id: MessageId


@strawberry.type
class MessagePayload:
    message: MessageType | None = None
    errors: list[UserError] = errors_field()


@strawberry.type
class MessageMutations:
    @mutation_field(MessagePayload, description="A CLIENT: non-internal, on its own engagement.")
    async def post_message(self, info: strawberry.Info, input: PostMessageInput) -> MessagePayload:
        return await post_message(info, input)

    @mutation_field(MessagePayload, description="The sender's own message (an ADMIN: any).")
    async def edit_message(self, info: strawberry.Info, input: EditMessageInput) -> MessagePayload:
        return await edit_message(info, input)

    @mutation_field(
        DeletePayload, description="A soft delete of the sender's own message (an ADMIN: any)."
    )
    async def delete_message(self, info: strawberry.Info, input: DeleteInput) -> DeletePayload:
        return await delete_message(info, input)


Info = strawberry.Info[Any, Any]
CONVERSATION_FIELD = (*INPUT, "conversationId")


async def record(
    context: RequestContext, kind: MessageEventKind, message: StoredMessageRow
) -> None:
    """Write the event to the outbox in the mutation's transaction (db/outbox.py)."""
    statement, parameters = outbox.record_one(kind, message, context.settings.broadcast_channel)
    rows = (await context.db.execute(statement, parameters)).all()
    context.events.extend(outbox.announcements(rows))


async def insert_message(
    context: RequestContext,
    conversation_id: Any,
    content: str,
    *,
    internal: bool = False,
    attachments: list[dict[str, Any]] | None = None,
) -> tuple[StoredMessageRow, Row]:
    """(message, conversation): the message written by the viewer, and the conversation
    with its activity times moved in the same transaction."""
    written = await one(
        context,
        writes.create(
            Message,
            org_id=context.scope.org_id,
            conversation_id=conversation_id,
            sender_id=context.scope.user_id,
            content=content,
            is_internal=internal,
            attachments=attachments or [],
            # Taken under the conversation's lock, so in commit order; one instant for both.
            created_at=writes.STATEMENT_TIME,
            updated_at=writes.STATEMENT_TIME,
        ),
    )
    message = cast(StoredMessageRow, written)
    activity = writes.record_message_activity(
        conversation_id, message.created_at, internal=internal
    )
    conversation = await one(context, activity)
    await record(context, MessageEventKind.POSTED, message)
    return message, conversation


async def _lock_message(context: RequestContext, data: Any) -> StoredMessageRow:
    """The message, locked after its conversation (the order posts and an engagement's
    delete take them in); once the conversation is locked, the statements after see every
    message committed before."""
    await context.db.execute(*writes.lock_conversation_of_message(data.id))
    row = await lock_visible(context, Message, visibility.messages, data.id, type_name="Message")
    return cast(StoredMessageRow, row)


async def post_message(info: Info, input: PostMessageInput) -> MessagePayload:
    return await mutate(info, MessagePayload, PostMessage, input, _post)


async def _post(context: RequestContext, data: PostMessage) -> MessagePayload:
    # The engagement first (share: posts do not wait for each other), so that it cannot
    # close until this post commits; then the conversation, which orders its posts.
    engagement = (
        await context.db.execute(*writes.lock_engagement_of_conversation(data.conversation_id))
    ).first()
    conversation = await lock_visible(
        context,
        Conversation,
        visibility.conversations,
        data.conversation_id,
        type_name="Conversation",
        field=CONVERSATION_FIELD,
    )
    if data.internal and context.scope.is_client:  # after NOT_FOUND: nothing to tell apart
        raise forbidden("A CLIENT cannot post internal messages.")
    if conversation.status is ConversationStatus.CLOSED:
        raise invalid_transition("The conversation is CLOSED.", CONVERSATION_FIELD)
    if engagement is not None and engagement.status is EngagementStatus.CLOSED:
        raise invalid_transition("The conversation's engagement is CLOSED.", CONVERSATION_FIELD)
    message, _ = await insert_message(
        context,
        conversation.id,
        data.content,
        internal=data.internal,
        attachments=data.attachment_values(),
    )
    return MessagePayload(message=MessageType.from_row(message))


async def edit_message(info: Info, input: EditMessageInput) -> MessagePayload:
    return await mutate(info, MessagePayload, EditMessage, input, _edit)


async def _edit(context: RequestContext, data: EditMessage) -> MessagePayload:
    row = await _lock_message(context, data)
    require_author_or_admin(context, row.sender_id)
    edited = await update_changed(context, Message, row, {"content": data.content})
    if edited is not row:
        await record(context, MessageEventKind.EDITED, edited)
    return MessagePayload(message=MessageType.from_row(edited))


async def delete_message(info: Info, input: DeleteInput) -> DeletePayload:
    return await mutate(info, DeletePayload, DeleteMessage, input, _delete)


async def _delete(context: RequestContext, data: DeleteMessage) -> DeletePayload:
    """A soft delete; the conversation's activity times fall back to the newest message left."""
    row = await _lock_message(context, data)
    require_author_or_admin(context, row.sender_id)
    await context.db.execute(*writes.soft_delete(Message, row.id))
    await context.db.execute(*writes.recompute_message_activity(row.conversation_id))
    await record(context, MessageEventKind.DELETED, row)
    return DeletePayload(deleted_id=strawberry.ID(to_global_id("Message", row.id)))
