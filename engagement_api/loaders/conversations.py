import uuid
from collections.abc import Sequence

from engagement_api.db import visibility
from engagement_api.db.models import Conversation
from engagement_api.db.queries import CONVERSATIONS_OF_ENGAGEMENT, FEED_POSITIONS, IDS
from engagement_api.loaders.base import ByIdLoader, Loader, PageLoader


class ConversationByIdLoader(ByIdLoader):
    model = Conversation
    visible = staticmethod(visibility.conversations)


class ConversationsByEngagementIdLoader(PageLoader):
    spec = CONVERSATIONS_OF_ENGAGEMENT


class FeedPositionByConversationIdLoader(Loader[uuid.UUID, int]):
    """The live feed's position as of the request's snapshot: the events after it that the
    viewer is shown are the changes its reads do not show (`FEED_POSITIONS`)."""

    async def load_batch(self, keys: Sequence[uuid.UUID]) -> list[int]:
        statement = FEED_POSITIONS[self.scope.is_client]
        rows = await self.fetch(statement, {IDS: list(keys)})
        positions = {row[0]: int(row[1]) for row in rows}
        return [positions[key] for key in keys]
