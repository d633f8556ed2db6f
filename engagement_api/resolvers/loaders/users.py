from engagement_api.db import visibility
from engagement_api.db.models import User
from engagement_api.resolvers.loaders.base import ByIdLoader


class UserByIdLoader(ByIdLoader):
    model = User
    visible = staticmethod(visibility.users)
