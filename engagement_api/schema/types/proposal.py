import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from engagement_api.loaders import EngagementByIdLoader, OrderByIdLoader, UserByIdLoader
from engagement_api.schema.enums import ProposalStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import load_required_row, load_row
from engagement_api.schema.types.user import User

if TYPE_CHECKING:
    from engagement_api.schema.types.engagement import Engagement
    from engagement_api.schema.types.order import Order


@strawberry.type
class Proposal(Node):
    db_id: strawberry.Private[uuid.UUID]
    client_id: strawberry.Private[uuid.UUID]
    converted_order_id: strawberry.Private[uuid.UUID | None]
    converted_engagement_id: strawberry.Private[uuid.UUID | None]
    title: str
    status: ProposalStatus
    amount_cents: int
    currency: str
    created_at: datetime
    signed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Proposal", row.id)),
            db_id=row.id,
            client_id=row.client_id,
            converted_order_id=row.converted_order_id,
            converted_engagement_id=row.converted_engagement_id,
            title=row.title,
            status=row.status,
            amount_cents=row.amount_cents,
            currency=row.currency,
            created_at=row.created_at,
            signed_at=row.signed_at,
        )

    @strawberry.field
    async def client(self, info: strawberry.Info) -> User:
        return User.from_row(await load_required_row(info, UserByIdLoader, self.client_id))

    @strawberry.field
    async def converted_order(
        self, info: strawberry.Info
    ) -> Annotated["Order", strawberry.lazy("engagement_api.schema.types.order")] | None:
        from engagement_api.schema.types.order import Order

        row = await load_row(info, OrderByIdLoader, self.converted_order_id)
        return Order.from_row(row) if row else None

    @strawberry.field
    async def converted_engagement(
        self, info: strawberry.Info
    ) -> Annotated["Engagement", strawberry.lazy("engagement_api.schema.types.engagement")] | None:
        from engagement_api.schema.types.engagement import Engagement

        row = await load_row(info, EngagementByIdLoader, self.converted_engagement_id)
        return Engagement.from_row(row) if row else None
