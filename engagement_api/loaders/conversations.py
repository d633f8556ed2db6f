from engagement_api.db import visibility
from engagement_api.db.models import Conversation
from engagement_api.db.queries import CONVERSATIONS_OF_ENGAGEMENT
from engagement_api.loaders.base import ByIdLoader, PageLoader


class ConversationByIdLoader(ByIdLoader):
    model = Conversation
    visible = staticmethod(visibility.conversations)


class ConversationsByEngagementIdLoader(PageLoader):
    spec = CONVERSATIONS_OF_ENGAGEMENT
