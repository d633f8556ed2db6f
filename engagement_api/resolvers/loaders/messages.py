import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from engagement_api.db import visibility
from engagement_api.db.models import Message
from engagement_api.db.pagination import Window, split_pages
from engagement_api.db.queries import MESSAGES_OF_CONVERSATION
from engagement_api.resolvers.loaders.base import ByIdLoader, Loader, PageLoader


class MessageByIdLoader(ByIdLoader):
    model = Message
    visible = staticmethod(visibility.messages)


class MessagesByConversationIdLoader(PageLoader):
    spec = MESSAGES_OF_CONVERSATION


NEWEST = Window(limit=0, backward=True)
"""A page of one row (limit + 1) read from the end: the newest visible message."""


class LastMessageByConversationIdLoader(Loader[uuid.UUID, Row[Any] | None]):
    """The newest message each conversation shows this viewer."""

    async def load_batch(self, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
        unique = list(dict.fromkeys(keys))
        statement, parameters = MESSAGES_OF_CONVERSATION.page(self.scope, unique, (), NEWEST)
        rows = await self.fetch(statement, parameters)
        self.prime_joined(MESSAGES_OF_CONVERSATION, rows)
        pages = dict(zip(unique, split_pages(rows, unique, NEWEST), strict=True))
        return [pages[key].rows[0] if pages[key].rows else None for key in keys]
