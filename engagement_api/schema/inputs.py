"""The contract's mutation inputs. Strawberry only shapes them; `engagement_api.validation`
checks them (trimming, limits, ids), one model per input type."""

import strawberry

from engagement_api.schema.enums import (
    ConversationStatus,
    EngagementStatus,
    ProjectPhase,
    ProjectStatus,
)


@strawberry.input
class CreateEngagementInput:
    client_id: strawberry.ID
    name: str | None = strawberry.UNSET
    proposal_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class UpdateEngagementInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET


@strawberry.input
class SetEngagementStatusInput:
    id: strawberry.ID
    status: EngagementStatus


@strawberry.input
class DeleteInput:
    id: strawberry.ID


@strawberry.input
class CreateProjectInput:
    engagement_id: strawberry.ID
    name: str
    description: str | None = strawberry.UNSET
    phase: ProjectPhase | None = strawberry.UNSET
    service_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    service_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class SetProjectStatusInput:
    id: strawberry.ID
    status: ProjectStatus


@strawberry.input
class SetProjectPhaseInput:
    id: strawberry.ID
    phase: ProjectPhase


@strawberry.input
class AttachmentInput:
    name: str
    url: str
    size: int


@strawberry.input
class StartConversationInput:
    engagement_id: strawberry.ID
    subject: str | None = strawberry.UNSET
    content: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Optional first message, posted in the same transaction.",
    )


@strawberry.input
class SetConversationStatusInput:
    id: strawberry.ID
    status: ConversationStatus


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


@strawberry.input
class SignProposalInput:
    proposal_id: strawberry.ID
