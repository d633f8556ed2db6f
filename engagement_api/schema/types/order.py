import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from engagement_api.db.rows import OrderRow
from engagement_api.loaders import EngagementByIdLoader, UserByIdLoader
from engagement_api.schema.enums import OrderStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import relation
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
    def from_row(cls, row: OrderRow) -> Self:
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

    client: User = relation(UserByIdLoader, "client_id")
    engagement: (
        Annotated["Engagement", strawberry.lazy("engagement_api.schema.types.engagement")] | None
    ) = relation(EngagementByIdLoader, "engagement_id")
