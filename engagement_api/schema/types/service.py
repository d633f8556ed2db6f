from typing import Self

import strawberry

from engagement_api.db.rows import ServiceRow
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node


@strawberry.type
class Service(Node):
    name: str
    description: str | None

    @classmethod
    def from_row(cls, row: ServiceRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Service", row.id)),
            name=row.name,
            description=row.description,
        )
