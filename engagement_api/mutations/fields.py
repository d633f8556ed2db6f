"""What every root mutation field shares: its permission, answered as data when refused,
and the input of a delete. Each entity's module declares its fields with `mutation_field`;
`schema/mutation.py` only combines them."""

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from engagement_api.mutations.payloads import UserError
from engagement_api.mutations.role_refusal import role_refusal
from engagement_api.mutations.validation import InputModel
from engagement_api.schema.info import request_context
from engagement_api.schema.permissions import IsAuthenticated, describe


class RefusedInPayload(FieldExtension):
    """`permission`, whose refusal becomes `payload` with a user error: NOT_FOUND for an
    id of `model` the viewer cannot see, FORBIDDEN otherwise (mutations/role_refusal.py)."""

    def __init__(
        self,
        permission: BasePermission,
        payload: Callable[..., Any],
        model: type[InputModel] | None,
    ) -> None:
        self.permission = permission
        self.payload = payload
        self.model = model

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: strawberry.Info,
        **kwargs: Any,
    ) -> Any:
        granted = self.permission.has_permission(source, info, **kwargs)
        if isawaitable(granted):
            granted = await granted
        if granted:
            return await next_(source, info, **kwargs)
        requirement = getattr(self.permission, "requirement", "a role")
        context = request_context(info)
        refusal = await role_refusal(context, self.model, kwargs.get("input"), requirement)
        context.forget_loaded()  # as after any mutation: later ones read afresh
        return self.payload(errors=[UserError.from_problem(p) for p in refusal.problems])


def mutation_field(
    payload: Callable[..., Any],
    permission: type[BasePermission] = IsAuthenticated,
    description: str | None = None,
    *,
    model: type[InputModel] | None = None,
) -> Any:
    """A root mutation field returning `payload`. Every field requires an authenticated
    viewer (a top-level UNAUTHENTICATED error otherwise); a purely role-based refusal
    (`permission`) is answered as `payload` with a user error, after the ids of its input
    (`model`) are looked up as the viewer sees them."""
    check = RefusedInPayload(permission(), payload, model)
    return strawberry.mutation(description=describe(description, permission), extensions=[check])


@strawberry.input
class DeleteInput:
    id: strawberry.ID
