"""Mutation payloads: the changed object, or `UserError`s (business rule and validation
failures are data, not top-level errors)."""

from typing import Self

import strawberry

from engagement_api.refusals import ErrorCode, Problem
from engagement_api.schema.types.conversation import Conversation
from engagement_api.schema.types.engagement import Engagement
from engagement_api.schema.types.message import Message
from engagement_api.schema.types.order import Order
from engagement_api.schema.types.project import Project
from engagement_api.schema.types.proposal import Proposal

strawberry.enum(ErrorCode, name="UserErrorCode")


@strawberry.type(
    description="A business-rule or validation failure, returned as data in a mutation payload."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "attachments", "0", "url"].'
    )
    message: str
    code: ErrorCode

    @classmethod
    def from_problem(cls, problem: Problem) -> Self:
        field = list(problem.field) if problem.field is not None else None
        return cls(field=field, message=problem.message, code=problem.code)


def _errors() -> list[UserError]:
    return strawberry.field(default_factory=list)  # type: ignore[no-any-return]


@strawberry.type
class EngagementPayload:
    engagement: Engagement | None = None
    errors: list[UserError] = _errors()


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = _errors()


@strawberry.type
class ProjectPayload:
    project: Project | None = None
    errors: list[UserError] = _errors()


@strawberry.type
class ConversationPayload:
    conversation: Conversation | None = None
    errors: list[UserError] = _errors()


@strawberry.type
class MessagePayload:
    message: Message | None = None
    errors: list[UserError] = _errors()


@strawberry.type
class SignProposalPayload:
    proposal: Proposal | None = None
    order: Order | None = None
    engagement: Engagement | None = None
    errors: list[UserError] = _errors()
