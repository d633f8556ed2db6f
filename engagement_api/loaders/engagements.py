from engagement_api.db import visibility
from engagement_api.db.models import Engagement
from engagement_api.db.queries import ENGAGEMENTS
from engagement_api.loaders.base import ByIdLoader, PageLoader


class EngagementByIdLoader(ByIdLoader):
    model = Engagement
    visible = staticmethod(visibility.engagements)


class EngagementsLoader(PageLoader):
    """Pages of the viewer's engagements (root connection: the parent key is None)."""

    spec = ENGAGEMENTS
