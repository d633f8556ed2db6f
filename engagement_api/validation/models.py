"""One validation model per mutation input type: everything the input itself can get wrong.

Field names are the contract's (camelCase aliases), so an error's location is the
`UserError.field` path under "input". Rules that need the database (visibility, state,
roles) live in the resolvers.
"""

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    ProjectPhase,
    ProjectStatus,
)
from engagement_api.validation.fields import (
    ATTACHMENTS_MAX,
    Content,
    Description,
    Name,
    OptionalName,
    Size,
    Url,
    global_id,
)

EngagementId = Annotated[uuid.UUID, global_id("Engagement")]
ProjectId = Annotated[uuid.UUID, global_id("Project")]
ConversationId = Annotated[uuid.UUID, global_id("Conversation")]
MessageId = Annotated[uuid.UUID, global_id("Message")]
ProposalId = Annotated[uuid.UUID, global_id("Proposal")]
UserId = Annotated[uuid.UUID, global_id("User")]
ServiceId = Annotated[uuid.UUID, global_id("Service")]


class InputModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, frozen=True)

    def given(self, name: str) -> bool:
        """Whether the client sent this field (absent leaves a value unchanged)."""
        return name in self.model_fields_set


class CreateEngagement(InputModel):
    client_id: UserId
    name: OptionalName | None = None
    proposal_id: ProposalId | None = None


class UpdateEngagement(InputModel):
    id: EngagementId
    name: OptionalName | None = None


class SetEngagementStatus(InputModel):
    id: EngagementId
    status: EngagementStatus


class DeleteEngagement(InputModel):
    id: EngagementId


class CreateProject(InputModel):
    engagement_id: EngagementId
    name: Name
    description: Description | None = None
    phase: ProjectPhase | None = None
    service_id: ServiceId | None = None


class UpdateProject(InputModel):
    id: ProjectId
    name: Name = Field(default=None)  # type: ignore[assignment] # absent: unchanged; never null
    description: Description | None = None
    service_id: ServiceId | None = None


class SetProjectStatus(InputModel):
    id: ProjectId
    status: ProjectStatus


class SetProjectPhase(InputModel):
    id: ProjectId
    phase: ProjectPhase


class DeleteProject(InputModel):
    id: ProjectId


class StartConversation(InputModel):
    engagement_id: EngagementId
    subject: OptionalName | None = None
    content: Content | None = None


class SetConversationStatus(InputModel):
    id: ConversationId
    status: ConversationStatus


class Attachment(InputModel):
    name: Name
    url: Url
    size: Size


class PostMessage(InputModel):
    conversation_id: ConversationId
    content: Content
    is_internal: bool | None = False
    attachments: Annotated[list[Attachment], Field(max_length=ATTACHMENTS_MAX)] | None = None

    @property
    def internal(self) -> bool:
        return bool(self.is_internal)

    def attachment_values(self) -> list[dict[str, object]]:
        return [item.model_dump() for item in self.attachments or ()]


class EditMessage(InputModel):
    id: MessageId
    content: Content


class DeleteMessage(InputModel):
    id: MessageId


class SignProposal(InputModel):
    proposal_id: ProposalId
