"""The contract's enums: the database's IntEnums, registered with Strawberry and exposed by
member name (`strawberry.enum` marks the class itself, so code and schema share one type)."""

import strawberry

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)

for _enum in (
    Role,
    EngagementStatus,
    ProjectStatus,
    ProjectPhase,
    ConversationStatus,
    ProposalStatus,
    OrderStatus,
):
    strawberry.enum(_enum)

__all__ = [
    "ConversationStatus",
    "EngagementStatus",
    "OrderStatus",
    "ProjectPhase",
    "ProjectStatus",
    "ProposalStatus",
    "Role",
]
