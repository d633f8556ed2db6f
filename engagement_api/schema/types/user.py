from typing import Self

import strawberry

from engagement_api.db.rows import UserRow
from engagement_api.schema.enums import Role
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node


@strawberry.type
class User(Node):
    name: str
    email: str
    role: Role

    @classmethod
    def from_row(cls, row: UserRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("User", row.id)),
            name=row.name,
            email=row.email,
            role=row.role,
        )
