"""Who is asking, as the SQL layer needs it: every statement is built for one scope."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import UUID

from engagement_api.db.enums import Role

ORG_PARAMETER = "scope_org_id"
USER_PARAMETER = "scope_user_id"


@dataclass(frozen=True, slots=True)
class Scope:
    org_id: uuid.UUID
    user_id: uuid.UUID
    role: Role

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT


def symbolic_scope(role: Role) -> Scope:
    """A scope whose organization and user are bound parameters, for statements built once
    and run for any viewer of `role` (values from `scope_parameters`)."""
    org_id: Any = bindparam(ORG_PARAMETER, type_=UUID(as_uuid=True))
    user_id: Any = bindparam(USER_PARAMETER, type_=UUID(as_uuid=True))
    return Scope(org_id=org_id, user_id=user_id, role=role)


def scope_parameters(scope: Scope) -> dict[str, Any]:
    return {ORG_PARAMETER: scope.org_id, USER_PARAMETER: scope.user_id}
