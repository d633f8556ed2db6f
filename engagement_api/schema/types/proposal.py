import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from engagement_api.db.rows import ProposalRow
from engagement_api.loaders import EngagementByIdLoader, OrderByIdLoader, UserByIdLoader
from engagement_api.schema.enums import ProposalStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import relation
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
    def from_row(cls, row: ProposalRow) -> Self:
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

    client: User = relation(UserByIdLoader, "client_id")
    converted_order: (
        Annotated["Order", strawberry.lazy("engagement_api.schema.types.order")] | None
    ) = relation(OrderByIdLoader, "converted_order_id")
    converted_engagement: (
        Annotated["Engagement", strawberry.lazy("engagement_api.schema.types.engagement")] | None
    ) = relation(EngagementByIdLoader, "converted_engagement_id")
