import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from engagement_api.db.rows import EngagementRow
from engagement_api.loaders import (
    ConversationsByEngagementIdLoader,
    OrdersByEngagementIdLoader,
    ProjectsByEngagementIdLoader,
    ProposalByIdLoader,
    UserByIdLoader,
)
from engagement_api.schema.enums import (
    ConversationStatus,
    EngagementStatus,
    ProjectPhase,
    ProjectStatus,
)
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Connection, Node
from engagement_api.schema.types._load import connection, relation
from engagement_api.schema.types.order import Order
from engagement_api.schema.types.user import User

if TYPE_CHECKING:
    from engagement_api.schema.types.conversation import Conversation
    from engagement_api.schema.types.project import Project
    from engagement_api.schema.types.proposal import Proposal

ProjectRef = Annotated["Project", strawberry.lazy("engagement_api.schema.types.project")]
ConversationRef = Annotated[
    "Conversation", strawberry.lazy("engagement_api.schema.types.conversation")
]
ProposalRef = Annotated["Proposal", strawberry.lazy("engagement_api.schema.types.proposal")]


@strawberry.type(description="The work relationship with one client.")
class Engagement(Node):
    db_id: strawberry.Private[uuid.UUID]
    client_id: strawberry.Private[uuid.UUID]
    proposal_id: strawberry.Private[uuid.UUID | None]
    name: str | None
    status: EngagementStatus
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: EngagementRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Engagement", row.id)),
            db_id=row.id,
            client_id=row.client_id,
            proposal_id=row.proposal_id,
            name=row.name,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
        )

    client: User = relation(UserByIdLoader, "client_id")
    proposal: ProposalRef | None = relation(ProposalByIdLoader, "proposal_id")

    @connection(
        ProjectsByEngagementIdLoader,
        "db_id",
        ProjectRef,
        description="Ordered by phase, then creation time. Soft-deleted projects never appear.",
    )
    def projects(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: list[ProjectStatus] | None = None,
        phase: list[ProjectPhase] | None = None,
    ) -> Connection[ProjectRef]: ...

    @connection(
        ConversationsByEngagementIdLoader,
        "db_id",
        ConversationRef,
        description="Most recent activity first (lastMessageAt, then createdAt).",
    )
    def conversations(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: ConversationStatus | None = None,
    ) -> Connection[ConversationRef]: ...

    @connection(OrdersByEngagementIdLoader, "db_id", Order, description="Newest first.")
    def orders(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Order]: ...
