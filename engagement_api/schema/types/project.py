import uuid
from datetime import datetime
from typing import Self

import strawberry

from engagement_api.db.rows import ProjectRow
from engagement_api.loaders import EngagementByIdLoader, ServiceByIdLoader
from engagement_api.schema.enums import ProjectPhase, ProjectStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.node import Node
from engagement_api.schema.types._load import relation
from engagement_api.schema.types.engagement import Engagement
from engagement_api.schema.types.service import Service


@strawberry.type
class Project(Node):
    db_id: strawberry.Private[uuid.UUID]
    engagement_id: strawberry.Private[uuid.UUID]
    service_id: strawberry.Private[uuid.UUID | None]
    name: str
    description: str | None
    status: ProjectStatus
    phase: ProjectPhase
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: ProjectRow) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Project", row.id)),
            db_id=row.id,
            engagement_id=row.engagement_id,
            service_id=row.service_id,
            name=row.name,
            description=row.description,
            status=row.status,
            phase=row.phase,
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
        )

    engagement: Engagement = relation(EngagementByIdLoader, "engagement_id")
    service: Service | None = relation(ServiceByIdLoader, "service_id")
