from engagement_api.db import visibility
from engagement_api.db.models import Organization
from engagement_api.resolvers.loaders.base import ByIdLoader


class OrganizationByIdLoader(ByIdLoader):
    model = Organization
    visible = staticmethod(visibility.organizations)
