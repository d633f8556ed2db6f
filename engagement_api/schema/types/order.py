import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from engagement_api.loaders import EngagementByIdLoader, UserByIdLoader
from engagement_api.schema.enums import OrderStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import load_required_row, load_row
from engagement_api.schema.types.user import User

if TYPE_CHECKING:
    from engagement_api.schema.types.engagement import Engagement


@strawberry.type
class Order(Node):
    db_id: strawberry.Private[uuid.UUID]
    client_id: strawberry.Private[uuid.UUID]
    engagement_id: strawberry.Private[uuid.UUID | None]
    amount_cents: int
    currency: str
    status: OrderStatus
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Order", row.id)),
            db_id=row.id,
            client_id=row.client_id,
            engagement_id=row.engagement_id,
            amount_cents=row.amount_cents,
            currency=row.currency,
            status=row.status,
            created_at=row.created_at,
        )

    @strawberry.field
    async def client(self, info: strawberry.Info) -> User:
        return User.from_row(await load_required_row(info, UserByIdLoader, self.client_id))

    @strawberry.field
    async def engagement(
        self, info: strawberry.Info
    ) -> Annotated["Engagement", strawberry.lazy("engagement_api.schema.types.engagement")] | None:
        from engagement_api.schema.types.engagement import Engagement

        row = await load_row(info, EngagementByIdLoader, self.engagement_id)
        return Engagement.from_row(row) if row else None
