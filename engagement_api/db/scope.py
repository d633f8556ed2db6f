"""Who is asking, as the SQL layer needs it: every statement is built for one scope."""

import uuid
from dataclasses import dataclass

from engagement_api.db.enums import Role


@dataclass(frozen=True, slots=True)
class Scope:
    org_id: uuid.UUID
    user_id: uuid.UUID
    role: Role

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)
