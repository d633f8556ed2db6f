from typing import Self

import strawberry

from engagement_api.db.rows import OrganizationRow
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node


@strawberry.type
class Organization(Node):
    name: str

    @classmethod
    def from_row(cls, row: OrganizationRow) -> Self:
        return cls(id=strawberry.ID(to_global_id("Organization", row.id)), name=row.name)
