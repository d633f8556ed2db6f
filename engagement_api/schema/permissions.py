"""Who may use a field (domain rules §2), as Strawberry permission classes.

Each class states its rule in `requirement`; `describe` prints it into the field's
description, so the SDL and GraphiQL show what every field requires.
"""

from typing import Any, ClassVar

import strawberry
from strawberry.permission import BasePermission

from engagement_api.db.enums import Role
from engagement_api.schema.info import request_context


class IsAuthenticated(BasePermission):
    """Any viewer with a valid bearer token; UNAUTHENTICATED otherwise."""

    requirement: ClassVar[str] = "an authenticated viewer"
    message = "Authentication required."

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        await request_context(info).viewer()
        return True


class HasRole(BasePermission):
    """A viewer whose role is one of `roles` (after authentication)."""

    roles: ClassVar[frozenset[Role]] = frozenset(Role)
    requirement: ClassVar[str] = "any role"
    message = "The viewer's role does not allow this."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.requirement = " or ".join(role.name for role in sorted(cls.roles))

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        viewer = await request_context(info).viewer()
        return viewer.role in self.roles


class IsStaff(HasRole):
    """STAFF or ADMIN."""

    roles = frozenset({Role.STAFF, Role.ADMIN})


class IsAdmin(HasRole):
    """ADMIN only."""

    roles = frozenset({Role.ADMIN})


def describe(description: str | None, *permissions: type[BasePermission]) -> str:
    """`description` followed by the field's requirements, e.g. "Requires: STAFF or ADMIN."."""
    needs = [getattr(permission, "requirement", permission.__name__) for permission in permissions]
    suffix = f"Requires: {'; '.join(needs)}." if needs else ""
    return "\n\n".join(part for part in (description, suffix) if part)
