from engagement_api.db import visibility
from engagement_api.db.models import Organization
from engagement_api.loaders.base import ByIdLoader


class OrganizationByIdLoader(ByIdLoader):
    model = Organization
    visible = staticmethod(visibility.organizations)
