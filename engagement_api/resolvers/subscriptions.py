"""`messageEvents`: authorized once when it starts, then every event is filtered and
resolved with the subscriber's own permissions.

Each event gets a fresh scope (`event_scope.EventScope`: its own transaction and loaders
for the same viewer). The scope stays open while the event's selection resolves (the
generator yields inside it) and is given back just before the result is sent.
"""

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from engagement_api.broadcast import Broadcaster, EventsMissed, FellBehind
from engagement_api.context import RequestContext
from engagement_api.db.scope import Scope
from engagement_api.errors import ClientError, ServiceUnavailableError, UnauthenticatedError
from engagement_api.events import MessageEvent, MessageEventKind
from engagement_api.resolvers.event_scope import EventScope
from engagement_api.resolvers.loaders import ConversationByIdLoader, MessageByIdLoader
from engagement_api.schema.ids import parse_global_id

logger = logging.getLogger("engagement_api.subscriptions")


class ConversationNotFoundError(ClientError):
    """Also for a conversation the viewer may not see: nothing reveals that it exists."""

    code = "NOT_FOUND"
    default_message = "No conversation with this id."


class EventsMissedError(ClientError):
    """Delivered in the stream (which goes on) after the feed was interrupted."""

    code = "EVENTS_MISSED"
    default_message = (
        "The live feed was interrupted: events may have been missed. The subscription goes "
        "on; resync with `messages(after:)` from the newest message you have."
    )


class SubscriberTooSlowError(ClientError):
    """The last message of a subscription that fell too far behind."""

    code = "SUBSCRIBER_TOO_SLOW"
    default_message = (
        "This subscription fell too far behind and was closed. Subscribe again, then resync "
        "with `messages(after:)` from the newest message you have."
    )


@dataclass(frozen=True, slots=True)
class VisibleEvent:
    """An event this subscriber may receive, with the scope its selection resolves in."""

    event: MessageEvent
    row: Any
    """The message as this viewer sees it; None for DELETED."""
    context: RequestContext


FeedItem = VisibleEvent | ClientError


async def open_message_feed(
    context: RequestContext, conversation_id: str
) -> AsyncIterator[FeedItem]:
    """Authorize now (errors here refuse the subscription), then stream the feed."""
    broadcaster = context.broadcaster
    if broadcaster is None:
        raise ServiceUnavailableError("The live feed is not available.")
    conversation, viewer = await _authorize(context, conversation_id)
    return _feed(context, broadcaster, conversation, viewer)


async def _authorize(context: RequestContext, conversation_id: str) -> tuple[uuid.UUID, Scope]:
    scope = context.fresh_scope()
    try:
        viewer = await scope.viewer()
        row_id = parse_global_id(conversation_id, "Conversation")
        row = None if row_id is None else await scope.loader(ConversationByIdLoader).load(row_id)
    finally:
        await scope.close(commit=False)
    if row is None:
        raise ConversationNotFoundError()
    return row.id, viewer.scope


async def _feed(
    context: RequestContext, broadcaster: Broadcaster, conversation: uuid.UUID, viewer: Scope
) -> AsyncIterator[FeedItem]:
    with broadcaster.subscription(conversation) as subscriber:
        while True:
            delivery = await subscriber.next()
            if isinstance(delivery, EventsMissed):
                yield EventsMissedError()
                continue
            if isinstance(delivery, FellBehind):
                logger.warning(
                    "closing a subscriber that fell %d events behind", delivery.queue_size
                )
                yield SubscriberTooSlowError(queueSize=delivery.queue_size)
                return
            if not _may_receive(viewer, delivery):
                continue
            async with EventScope(context, broadcaster.fanout.resolving) as scope:
                try:
                    visible = await _resolve(scope.context, delivery)
                except UnauthenticatedError as error:  # the token expired, or the user is gone
                    yield error
                    return
                except ServiceUnavailableError:
                    logger.warning("could not resolve a live event; announcing a gap")
                    yield EventsMissedError()
                    continue
                if visible is not None:
                    yield visible  # the scope serves the selection, until the send


def _may_receive(viewer: Scope, event: MessageEvent) -> bool:
    """The payload's own filter, before any database work: the tenant, and never an
    internal message's event for a CLIENT (DELETED events have no message to check)."""
    return event.org_id == viewer.org_id and not (event.is_internal and viewer.is_client)


async def _resolve(scope: RequestContext, event: MessageEvent) -> VisibleEvent | None:
    """The event as this viewer sees it, or None when it is not for this viewer: POSTED and
    EDITED carry the message if the viewer sees it; DELETED needs the conversation visible.
    The payload's filter applies again to the viewer as it is now (its role may change)."""
    viewer = await scope.viewer()
    if not _may_receive(viewer.scope, event):
        return None
    if event.kind is MessageEventKind.DELETED:
        conversation = await scope.loader(ConversationByIdLoader).load(event.conversation_id)
        return None if conversation is None else VisibleEvent(event, None, scope)
    row = await scope.loader(MessageByIdLoader).load(event.message_id)
    if row is None or row.conversation_id != event.conversation_id:
        return None
    return VisibleEvent(event, row, scope)
