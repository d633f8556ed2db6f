from engagement_api.db import visibility
from engagement_api.db.models import User
from engagement_api.loaders.base import ByIdLoader


class UserByIdLoader(ByIdLoader):
    model = User
    visible = staticmethod(visibility.users)
