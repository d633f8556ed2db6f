import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from engagement_api.db.rows import ConversationRow
from engagement_api.loaders import (
    EngagementByIdLoader,
    FeedPositionByConversationIdLoader,
    MessagesByConversationIdLoader,
)
from engagement_api.loaders.messages import NEWEST
from engagement_api.resolvers.event_cursor import feed_cursor
from engagement_api.schema.direct import direct
from engagement_api.schema.enums import ConversationStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.info import request_context
from engagement_api.schema.node import Connection, Node
from engagement_api.schema.types._load import connection, relation
from engagement_api.schema.types.engagement import Engagement

if TYPE_CHECKING:
    from engagement_api.schema.types.message import Message

MessageRef = Annotated["Message", strawberry.lazy("engagement_api.schema.types.message")]


@strawberry.type
class Conversation(Node):
    db_id: strawberry.Private[uuid.UUID]
    engagement_id: strawberry.Private[uuid.UUID]
    last_message_at_staff: strawberry.Private[datetime | None]
    last_message_at_public: strawberry.Private[datetime | None]
    subject: str | None
    status: ConversationStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ConversationRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Conversation", row.id)),
            db_id=row.id,
            engagement_id=row.engagement_id,
            last_message_at_staff=row.last_message_at,
            last_message_at_public=row.last_public_message_at,
            subject=row.subject,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    engagement: Engagement = relation(EngagementByIdLoader, "engagement_id")

    @strawberry.field(description="Time of the newest message this viewer may see.")
    @direct
    def last_message_at(self, info: strawberry.Info) -> datetime | None:
        if request_context(info).scope.is_client:
            return self.last_message_at_public
        return self.last_message_at_staff

    @strawberry.field(description="The newest message this viewer may see.")
    async def last_message(self, info: strawberry.Info) -> MessageRef | None:
        from engagement_api.schema.types.message import Message

        loader = request_context(info).loader(MessagesByConversationIdLoader)
        page = await loader.load((self.db_id, (), NEWEST))
        return Message.from_row(page.rows[0]) if page.rows else None

    @strawberry.field(
        description=(
            "The live feed's position as of this response: `messageEvents(conversationId,"
            " after: messageEventsCursor)` delivers every change this response does not"
            " show, and none that it does. Exact in a query, which reads one snapshot."
            " Null when the server runs no live feed."
        )
    )
    async def message_events_cursor(self, info: strawberry.Info) -> str | None:
        context = request_context(info)
        position = await context.loader(FeedPositionByConversationIdLoader).load(self.db_id)
        return await feed_cursor(context, self.db_id, position)

    @connection(
        MessagesByConversationIdLoader,
        "db_id",
        MessageRef,
        description=(
            "Chronological. Page forward with first/after, or read the newest with last/before."
        ),
    )
    def messages(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MessageRef]: ...
