"""`messageEvents`: authorized once when it starts; then the missed events (after the
client's cursor) are replayed from the outbox, then the live stream follows, every event
filtered with the subscriber's permissions and resolved once per audience
(event_audience.py).

The seam: the subscriber is registered before the replay reads the outbox, so an event
committed meanwhile is both replayed and queued; it is delivered once, as every delivery
at or below the last position sent is skipped.
"""

import asyncio
import logging
import random
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from engagement_api.broadcast import Fanout, FellBehind, Subscriber
from engagement_api.context import RequestContext
from engagement_api.db.scope import Scope
from engagement_api.errors import ClientError, ServiceUnavailableError, UnauthenticatedError
from engagement_api.events import OutboxEvent
from engagement_api.loaders import ConversationByIdLoader
from engagement_api.resolvers import event_audience, event_cursor
from engagement_api.resolvers.event_audience import ConversationGoneError, FeedOwner, Personal
from engagement_api.resolvers.event_scope import EventScope
from engagement_api.schema.ids import parse_global_id

logger = logging.getLogger("engagement_api.subscriptions")

REPLAY_BATCH = 500


class ConversationNotFoundError(ClientError):
    """Also for a conversation the viewer may not see: nothing reveals that it exists."""

    code = "NOT_FOUND"
    default_message = "No conversation with this id."


class SubscriberTooSlowError(ClientError):
    """The last message of a subscription that fell too far behind."""

    code = "SUBSCRIBER_TOO_SLOW"
    default_message = (
        "This subscription fell too far behind and was closed. Subscribe again with `after` "
        "set to the cursor of the last event received."
    )


class SubscriptionLimitError(ClientError):
    code = "SUBSCRIPTION_LIMIT_REACHED"
    default_message = "Too many live subscriptions for this user; complete some first."


@dataclass(frozen=True, slots=True)
class VisibleEvent:
    """An event this subscriber may receive, with the scope its selection resolves in."""

    event: OutboxEvent
    row: Any
    """The message as this viewer sees it; None for DELETED."""
    scope: EventScope
    """The subscriber's scope for this event (its context made on first use)."""
    cursor: str
    shared_results: dict[Any, Any] | None
    """Where the audience's members share their results; None: executed per subscriber."""


@dataclass(slots=True)
class ReplayBatch:
    """Replayed events that may be executed together (one context for all of them, primed
    with their rows, held until the first is written). Whoever takes it says how many it
    delivered, from the first; the feed then yields the others one by one."""

    events: list[VisibleEvent]
    delivered: int = 0
    retry: bool = False
    """None was delivered but the rest (after the first, yielded on its own) may be."""


FeedItem = VisibleEvent | ReplayBatch | ClientError


async def open_message_feed(
    context: RequestContext, conversation_id: str, after: str | None = None
) -> AsyncGenerator[FeedItem, None]:
    """Authorize now (errors here refuse the subscription), then stream the feed."""
    broadcaster = context.broadcaster
    if broadcaster is None:
        raise ServiceUnavailableError("The live feed is not available.")
    conversation, viewer = await _authorize(context, conversation_id)
    fanout = broadcaster.fanout
    _check_viewers_cap(context, fanout, viewer)  # before the outbox's small pool is used
    try:
        cursors = await event_cursor.cursors_of(fanout.reader)  # events need it from now
        start = None if after is None else cursors.decode(after, conversation)
        newest = (await fanout.reader.newest([conversation]))[conversation]
        if start is not None and await fanout.reader.expired(
            conversation, start, public=viewer.is_client
        ):
            raise event_cursor.CursorExpiredError()
    except ClientError:
        raise
    except Exception as error:
        logger.warning("could not read the outbox to start a subscription", exc_info=True)
        raise ServiceUnavailableError() from error
    _check_viewers_cap(context, fanout, viewer)  # again, with no await from here on
    owner = FeedOwner(context, initially_staff=not viewer.is_client)
    subscriber = fanout.register(
        conversation, viewer.user_id, owner, event_audience.resolve, newest
    )
    feed = _feed(context, fanout, subscriber, newest if start is None else start)
    weakref.finalize(feed, fanout.unregister, subscriber)  # a feed dropped before it started
    return feed


def _check_viewers_cap(context: RequestContext, fanout: Fanout, viewer: Scope) -> None:
    limit = context.settings.max_subscriptions_per_viewer
    if fanout.subscriptions_of(viewer.user_id) >= limit:
        raise SubscriptionLimitError(limit=limit)


async def _authorize(context: RequestContext, conversation_id: str) -> tuple[uuid.UUID, Scope]:
    row_id = parse_global_id(conversation_id, "Conversation")
    scope, visible = await _seen_by_viewer(context, row_id)
    if not visible or row_id is None:
        raise ConversationNotFoundError()
    return row_id, scope


async def _seen_by_viewer(
    context: RequestContext, conversation_id: uuid.UUID | None
) -> tuple[Scope, bool]:
    """The viewer as of now (UnauthenticatedError if gone), and whether it sees the
    conversation, read in a transaction of their own."""
    scope = context.fresh_scope()
    try:
        viewer = await scope.viewer()
        loader = scope.loader(ConversationByIdLoader)
        row = None if conversation_id is None else await loader.load(conversation_id)
    finally:
        await scope.close(commit=False)
    return viewer.scope, row is not None


async def _still_following(context: RequestContext, conversation_id: uuid.UUID) -> FeedItem | None:
    """Why an idle subscription ends now (its user gone, its conversation deleted or no
    longer visible), or None: it goes on, also when the database cannot tell now."""
    try:
        _, visible = await _seen_by_viewer(context, conversation_id)
    except UnauthenticatedError as error:
        return error
    except ServiceUnavailableError:
        return None
    return None if visible else ConversationGoneError()


async def _feed(
    context: RequestContext, fanout: Fanout, subscriber: Subscriber, start: int
) -> AsyncGenerator[FeedItem, None]:
    """The registered subscriber's stream: the events after `start`, then the live ones."""
    conversation = subscriber.conversation_id
    try:
        last = start
        while True:  # the replay, in batches
            try:
                async with fanout.resolving:
                    events = await fanout.reader.events_after(conversation, last, REPLAY_BATCH)
                    replayed = (
                        (await event_audience.resolve((subscriber,), events))[subscriber]
                        if events
                        else []
                    )
            except ClientError as error:
                yield error
                return
            except Exception:
                logger.warning("could not replay missed events", exc_info=True)
                yield ServiceUnavailableError("Missed events could not be replayed; resume later.")
                return
            deliveries: list[Personal] = []
            for delivery in replayed:
                if isinstance(delivery, ClientError):
                    break
                deliveries.append(delivery)
            retried = False
            while deliveries:
                async with EventScope(
                    partial(_batch_context, context, deliveries), fanout.delivering
                ) as scope:
                    batch = ReplayBatch([_visible(context, d, scope) for d in deliveries])
                    yield batch
                taken = max(batch.delivered, 0)
                if taken:
                    last = deliveries[taken - 1].position
                one_by_one = deliveries[taken:]
                if batch.retry and not retried and one_by_one:
                    retried = True
                    one_by_one, deliveries = one_by_one[:1], one_by_one[1:]
                else:
                    deliveries = []
                for delivery in one_by_one:
                    last = delivery.position
                    async with EventScope(
                        partial(_event_context, context, delivery), fanout.delivering
                    ) as scope:
                        yield _visible(context, delivery, scope)
            for delivery in replayed:
                if isinstance(delivery, ClientError):
                    yield delivery
                    return
            if events:
                last = max(last, events[-1].position)
            if len(events) < REPLAY_BATCH:
                break
        async for item in _live(context, subscriber, fanout.delivering, last):
            yield item
    finally:
        fanout.unregister(subscriber)


async def _live(
    context: RequestContext, subscriber: Subscriber, gate: asyncio.Semaphore, last: int
) -> AsyncIterator[FeedItem]:
    # A token's expiry never moves: when it ends the subscription is known from the start.
    token_expires = time.monotonic() + _until_the_token_expires(context)
    recheck = _next_recheck(context)
    while True:
        wait = min(token_expires, recheck) - time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, wait)):
                delivery = await subscriber.next()
        except TimeoutError:  # idle: what an event would have found out, found out now
            if time.monotonic() >= token_expires:
                yield UnauthenticatedError("The token is no longer valid.")
                return
            ended = await _still_following(context, subscriber.conversation_id)
            if ended is not None:
                yield ended
                return
            recheck = _next_recheck(context)
            continue
        if isinstance(delivery, FellBehind):
            logger.warning("closing a subscriber that fell %d events behind", delivery.queue_size)
            yield SubscriberTooSlowError(queueSize=delivery.queue_size)
            return
        if isinstance(delivery, ClientError):  # the token expired, the user or conversation gone
            yield delivery
            return
        if not isinstance(delivery, Personal) or delivery.position <= last:
            continue  # already replayed
        last = delivery.position
        recheck = _next_recheck(context)  # the batch checked the viewer and the conversation
        async with EventScope(partial(_event_context, context, delivery), gate) as scope:
            yield _visible(context, delivery, scope)


def _next_recheck(context: RequestContext) -> float:
    """When an idle subscription checks its viewer and conversation again (monotonic
    time), jittered so that subscriptions opened together do not check together."""
    period = context.settings.live_feed_recheck_seconds
    return time.monotonic() + random.uniform(period / 2, period)


def _until_the_token_expires(context: RequestContext) -> float:
    valid_until = context.token_valid_until()
    return 0.0 if valid_until is None else max(0.0, valid_until - time.time())


def _event_context(context: RequestContext, delivery: Personal) -> RequestContext:
    return context.primed_scope(delivery.viewer, delivery.shared.own_rows())


def _batch_context(context: RequestContext, deliveries: list[Personal]) -> RequestContext:
    """One subscriber's context for a replay batch, primed with every event's rows."""
    primed: dict[type[Any], dict[Any, Any]] = {}
    for delivery in deliveries:
        for loader, rows in delivery.shared.own_rows().items():
            primed.setdefault(loader, {}).update(rows)
    return context.primed_scope(deliveries[0].viewer, primed)


def _visible(context: RequestContext, delivery: Personal, scope: EventScope) -> VisibleEvent:
    shared = delivery.shared
    results = shared.shared_results if context.settings.live_feed_shared_payloads else None
    return VisibleEvent(shared.event, shared.row, scope, shared.cursor, results)


__all__ = [
    "ConversationNotFoundError",
    "FeedItem",
    "ReplayBatch",
    "SubscriberTooSlowError",
    "SubscriptionLimitError",
    "UnauthenticatedError",
    "VisibleEvent",
    "open_message_feed",
]
