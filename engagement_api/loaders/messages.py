from engagement_api.db import visibility
from engagement_api.db.models import Message
from engagement_api.db.pagination import Window
from engagement_api.db.queries import MESSAGES_OF_CONVERSATION
from engagement_api.loaders.base import ByIdLoader, PageLoader


class MessageByIdLoader(ByIdLoader):
    model = Message
    visible = staticmethod(visibility.messages)


class MessagesByConversationIdLoader(PageLoader):
    spec = MESSAGES_OF_CONVERSATION


NEWEST = Window(limit=0, backward=True)
"""A page of one row (limit + 1) read from the end: the newest visible message. Read by the
same statement as a `messages(last: n)` page of the same conversations (`reach`)."""
