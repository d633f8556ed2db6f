"""What every root mutation field shares: its permission, answered as data when refused,
and the input of a delete. Each entity's module declares its fields with `mutation_field`;
`schema/mutation.py` only combines them."""

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from engagement_api.mutations.payloads import UserError
from engagement_api.mutations.refusals import forbidden
from engagement_api.schema.permissions import IsAuthenticated, describe


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


def mutation_field(
    payload: Callable[..., Any],
    permission: type[BasePermission] = IsAuthenticated,
    description: str | None = None,
) -> Any:
    """A root mutation field returning `payload`. Every field requires an authenticated
    viewer (a top-level UNAUTHENTICATED error otherwise); a purely role-based refusal
    (`permission`) is answered as `payload` with a FORBIDDEN user error."""
    check = RefusedInPayload(permission(), payload)
    return strawberry.mutation(
        description=describe(description, permission),
        extensions=[PermissionExtension([check], use_directives=False)],
    )


@strawberry.input
class DeleteInput:
    id: strawberry.ID
