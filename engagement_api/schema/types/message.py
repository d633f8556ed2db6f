import uuid
from datetime import datetime
from typing import Self

import strawberry

from engagement_api.db.rows import MessageRow
from engagement_api.loaders import ConversationByIdLoader, UserByIdLoader
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import relation
from engagement_api.schema.types.conversation import Conversation
from engagement_api.schema.types.user import User


@strawberry.type
class Attachment:
    name: str
    url: str
    size: int = strawberry.field(description="Size in bytes.")


@strawberry.type
class Message(Node):
    db_id: strawberry.Private[uuid.UUID]
    conversation_id: strawberry.Private[uuid.UUID]
    sender_id: strawberry.Private[uuid.UUID]
    content: str
    is_internal: bool = strawberry.field(
        description=(
            "Staff-only note. A CLIENT viewer never receives an internal message, by any path."
        )
    )
    attachments: list[Attachment]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: MessageRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Message", row.id)),
            db_id=row.id,
            conversation_id=row.conversation_id,
            sender_id=row.sender_id,
            content=row.content,
            is_internal=row.is_internal,
            attachments=[
                Attachment(name=item["name"], url=item["url"], size=item["size"])
                for item in row.attachments or ()
            ],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    conversation: Conversation = relation(ConversationByIdLoader, "conversation_id")
    sender: User = relation(UserByIdLoader, "sender_id")
