"""The contract's enums: the database's IntEnums exposed by member name."""

import strawberry

from engagement_api.db import enums

Role = strawberry.enum(enums.Role, name="Role")
EngagementStatus = strawberry.enum(enums.EngagementStatus, name="EngagementStatus")
ProjectStatus = strawberry.enum(enums.ProjectStatus, name="ProjectStatus")
ProjectPhase = strawberry.enum(enums.ProjectPhase, name="ProjectPhase")
ConversationStatus = strawberry.enum(enums.ConversationStatus, name="ConversationStatus")
ProposalStatus = strawberry.enum(enums.ProposalStatus, name="ProposalStatus")
OrderStatus = strawberry.enum(enums.OrderStatus, name="OrderStatus")
