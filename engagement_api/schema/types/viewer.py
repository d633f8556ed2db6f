import uuid
from typing import Self

import strawberry

from engagement_api.db.rows import ViewerRow
from engagement_api.loaders import OrganizationByIdLoader
from engagement_api.schema.enums import Role
from engagement_api.schema.types._load import relation
from engagement_api.schema.types.organization import Organization
from engagement_api.schema.types.user import User


@strawberry.type(description="Who is asking: resolved from the bearer token of the request.")
class Viewer:
    org_id: strawberry.Private[uuid.UUID]
    user: User
    role: Role

    @classmethod
    def from_row(cls, row: ViewerRow) -> Self:
        return cls(org_id=row.org_id, user=User.from_row(row), role=row.role)

    organization: Organization = relation(OrganizationByIdLoader, "org_id")
