import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from engagement_api.db import visibility
from engagement_api.db.models import Service
from engagement_api.db.queries import services_of_organization
from engagement_api.loaders.base import ByIdLoader, Loader


class ServiceByIdLoader(ByIdLoader):
    model = Service
    visible = staticmethod(visibility.services)


class ServicesByOrganizationIdLoader(Loader[uuid.UUID, list[Row[Any]]]):
    """The viewer's organization's services (the key is the viewer's organization)."""

    async def load_batch(self, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
        rows = list(await self.fetch(*services_of_organization(self.scope)))
        return [rows if key == self.scope.org_id else [] for key in keys]
