"""The root Subscription: the live feed of one conversation (see README, "Live feed")."""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import strawberry

from engagement_api import events
from engagement_api.context import RequestContext
from engagement_api.errors import ClientError
from engagement_api.resolvers.event_scope import EventScope
from engagement_api.resolvers.subscriptions import (
    FeedItem,
    ReplayBatch,
    VisibleEvent,
    open_message_feed,
)
from engagement_api.schema.event_frames import FrameSink, current_sink
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.info import request_context
from engagement_api.schema.permissions import IsAuthenticated, describe
from engagement_api.schema.types.message import Message

MessageEventKind = strawberry.enum(events.MessageEventKind, name="MessageEventKind")


@strawberry.type
class MessageEvent:
    kind: MessageEventKind  # type: ignore[valid-type]
    message_id: strawberry.ID
    cursor: str = strawberry.field(
        description=(
            "Opaque position of this event in its conversation's feed: subscribe again with "
            "`after` set to it to receive, in order, every event since."
        )
    )
    row: strawberry.Private[Any]
    event_scope: strawberry.Private[EventScope]
    """The subscriber's scope for this event: every field below resolves in its context."""
    shared_results: strawberry.Private[dict[Any, Any] | None]
    """Results shared by the event's audience (schema/event_execution.py)."""

    @property
    def event_context(self) -> RequestContext:
        """Made on first use: a shared result needs none (schema/info.py reads it)."""
        return self.event_scope.context

    @strawberry.field(description="Null for DELETED.")
    def message(self) -> Message | None:
        return None if self.row is None else Message.from_row(self.row)

    @classmethod
    def from_item(cls, item: VisibleEvent | ClientError) -> "MessageEvent | Exception":
        """An event, or the error that this step of the stream reports."""
        if not isinstance(item, VisibleEvent):
            return item
        return cls(
            kind=item.event.kind,
            message_id=strawberry.ID(to_global_id("Message", item.event.message_id)),
            cursor=item.cursor,
            row=item.row,
            event_scope=item.scope,
            shared_results=item.shared_results,
        )


async def _events(feed: AsyncGenerator[FeedItem, None]) -> AsyncIterator[MessageEvent]:
    sink = current_sink()  # set by the WebSocket handler for this operation's task
    # Closed here, not by the garbage collector: a write that fails (the socket closed)
    # ends the stream, and the subscription must leave its conversation at once.
    async with aclosing(feed):
        async for item in feed:
            if isinstance(item, ReplayBatch):
                await _take_batch(sink, item)
                continue
            if (
                sink is not None
                and isinstance(item, VisibleEvent)
                and await sink.deliver_shared(item.shared_results)
            ):
                continue  # the audience's result, written (schema/event_frames.py)
            event = MessageEvent.from_item(item)
            if sink is not None and isinstance(event, MessageEvent) and await sink.deliver(event):
                continue  # executed and written
            # An error instance as a step's value becomes that step's GraphQL error.
            yield event  # type: ignore[misc]


async def _take_batch(sink: FrameSink | None, batch: ReplayBatch) -> None:
    """Replayed events executed together and written by the sink (schema/event_frames.py);
    the feed yields one by one what it did not write."""
    if sink is None:
        return
    if not sink.ready:  # the first event goes the stock way and teaches the sink
        batch.retry = True
        return
    batch.delivered = await sink.deliver_batch(
        [MessageEvent.from_item(item) for item in batch.events]
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=describe(
            "Live feed of one conversation, over graphql-transport-ws. "
            "Filtered per viewer like every read. With `after` (an event's `cursor`), the "
            "events since that one come first, in order, then the live stream.",
            IsAuthenticated,
        )
    )
    async def message_events(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        after: str | None = None,
    ) -> AsyncIterator[MessageEvent]:
        feed = await open_message_feed(request_context(info), conversation_id, after)
        return _events(feed)
