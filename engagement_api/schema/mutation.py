"""The root Mutation: thin fields over `resolvers.mutations`.

Every field requires an authenticated viewer (a top-level UNAUTHENTICATED error otherwise).
A purely role-based refusal (domain rules §2) is declared with a permission class and
answered as data: the field's payload with a `FORBIDDEN` user error.
"""

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from engagement_api.refusals import forbidden
from engagement_api.resolvers.mutations import (
    conversations,
    engagements,
    messages,
    projects,
    proposals,
)
from engagement_api.schema import inputs
from engagement_api.schema.payloads import (
    ConversationPayload,
    DeletePayload,
    EngagementPayload,
    MessagePayload,
    ProjectPayload,
    SignProposalPayload,
    UserError,
)
from engagement_api.schema.permissions import IsAdmin, IsAuthenticated, IsStaff, describe


class RefusedInPayload(BasePermission):
    """`permission`, whose refusal becomes `payload` with a FORBIDDEN user error."""

    def __init__(self, permission: BasePermission, payload: Callable[..., Any]) -> None:
        self.permission = permission
        self.payload = payload
        self.message = permission.message

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        granted = self.permission.has_permission(source, info, **kwargs)
        return bool(await granted) if not isinstance(granted, bool) else granted

    def on_unauthorized(self) -> Any:
        problems = forbidden(f"Requires {getattr(self.permission, 'requirement', 'a role')}.")
        return self.payload(errors=[UserError.from_problem(p) for p in problems.problems])


def _mutation(
    payload: Callable[..., Any],
    permission: type[BasePermission] = IsAuthenticated,
    description: str | None = None,
) -> Any:
    check = RefusedInPayload(permission(), payload)
    return strawberry.mutation(
        description=describe(description, permission),
        extensions=[PermissionExtension([check], use_directives=False)],
    )


@strawberry.type
class Mutation:
    @_mutation(EngagementPayload, IsStaff)
    async def create_engagement(
        self, info: strawberry.Info, input: inputs.CreateEngagementInput
    ) -> EngagementPayload:
        return await engagements.create_engagement(info, input)

    @_mutation(EngagementPayload, IsStaff)
    async def update_engagement(
        self, info: strawberry.Info, input: inputs.UpdateEngagementInput
    ) -> EngagementPayload:
        return await engagements.update_engagement(info, input)

    @_mutation(EngagementPayload, IsStaff)
    async def set_engagement_status(
        self, info: strawberry.Info, input: inputs.SetEngagementStatusInput
    ) -> EngagementPayload:
        return await engagements.set_engagement_status(info, input)

    @_mutation(DeletePayload, IsAdmin, "A hard delete; its orders stay, unlinked.")
    async def delete_engagement(
        self, info: strawberry.Info, input: inputs.DeleteInput
    ) -> DeletePayload:
        return await engagements.delete_engagement(info, input)

    @_mutation(ProjectPayload, IsStaff)
    async def create_project(
        self, info: strawberry.Info, input: inputs.CreateProjectInput
    ) -> ProjectPayload:
        return await projects.create_project(info, input)

    @_mutation(ProjectPayload, IsStaff)
    async def update_project(
        self, info: strawberry.Info, input: inputs.UpdateProjectInput
    ) -> ProjectPayload:
        return await projects.update_project(info, input)

    @_mutation(ProjectPayload, IsStaff)
    async def set_project_status(
        self, info: strawberry.Info, input: inputs.SetProjectStatusInput
    ) -> ProjectPayload:
        return await projects.set_project_status(info, input)

    @_mutation(ProjectPayload, IsStaff)
    async def set_project_phase(
        self, info: strawberry.Info, input: inputs.SetProjectPhaseInput
    ) -> ProjectPayload:
        return await projects.set_project_phase(info, input)

    @_mutation(DeletePayload, IsStaff, "A soft delete: the project leaves every read.")
    async def delete_project(
        self, info: strawberry.Info, input: inputs.DeleteInput
    ) -> DeletePayload:
        return await projects.delete_project(info, input)

    @_mutation(ConversationPayload, description="A CLIENT: on its own ACTIVE engagement.")
    async def start_conversation(
        self, info: strawberry.Info, input: inputs.StartConversationInput
    ) -> ConversationPayload:
        return await conversations.start_conversation(info, input)

    @_mutation(ConversationPayload, IsStaff)
    async def set_conversation_status(
        self, info: strawberry.Info, input: inputs.SetConversationStatusInput
    ) -> ConversationPayload:
        return await conversations.set_conversation_status(info, input)

    @_mutation(MessagePayload, description="A CLIENT: non-internal, on its own engagement.")
    async def post_message(
        self, info: strawberry.Info, input: inputs.PostMessageInput
    ) -> MessagePayload:
        return await messages.post_message(info, input)

    @_mutation(MessagePayload, description="The sender's own message (an ADMIN: any).")
    async def edit_message(
        self, info: strawberry.Info, input: inputs.EditMessageInput
    ) -> MessagePayload:
        return await messages.edit_message(info, input)

    @_mutation(
        DeletePayload, description="A soft delete of the sender's own message (an ADMIN: any)."
    )
    async def delete_message(
        self, info: strawberry.Info, input: inputs.DeleteInput
    ) -> DeletePayload:
        return await messages.delete_message(info, input)

    @_mutation(
        SignProposalPayload,
        description=(
            "Signs a proposal: creates its order and its engagement in one transaction. "
            "A CLIENT: its own SENT proposal."
        ),
    )
    async def sign_proposal(
        self, info: strawberry.Info, input: inputs.SignProposalInput
    ) -> SignProposalPayload:
        return await proposals.sign_proposal(info, input)
