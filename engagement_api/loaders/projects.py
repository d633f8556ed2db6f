from engagement_api.db import visibility
from engagement_api.db.models import Project
from engagement_api.db.queries import PROJECTS_OF_ENGAGEMENT
from engagement_api.loaders.base import ByIdLoader, PageLoader


class ProjectByIdLoader(ByIdLoader):
    model = Project
    visible = staticmethod(visibility.projects)


class ProjectsByEngagementIdLoader(PageLoader):
    spec = PROJECTS_OF_ENGAGEMENT
