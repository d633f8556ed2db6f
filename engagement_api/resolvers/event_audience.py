"""Live events resolved once per audience, not once per subscriber.

The subscribers of one conversation fall into at most two audiences: the organization's
staff (who see every message), and the engagement's CLIENT (who never sees an internal
one). For a batch of outbox events, each audience's messages, senders and conversation are
read once, in one short transaction as one of its members, which ends before anything is
delivered; every subscriber of that audience then receives the same `AudienceEvent`, and
its selection resolves from those rows without a connection of its own.

Each subscriber's viewer is checked again on every batch, as any read would: its token
must still verify, and its user must still exist (its current role decides its audience).
An audience that no longer sees the conversation (deleted, or no longer its viewer's)
receives what it may of the batch (a cascade's DELETED events), then the end.
"""

import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from engagement_api.broadcast import Subscriber
from engagement_api.context import RequestContext, Viewer
from engagement_api.db.outbox import OutboxReader
from engagement_api.db.scope import Scope
from engagement_api.errors import ClientError, ServiceUnavailableError, UnauthenticatedError
from engagement_api.events import MessageEventKind, OutboxEvent
from engagement_api.loaders import (
    ConversationByIdLoader,
    MessageByIdLoader,
    UserByIdLoader,
)
from engagement_api.resolvers import event_cursor

Primed = dict[type[Any], dict[Any, Any]]


class ConversationGoneError(ClientError):
    code = "NOT_FOUND"
    default_message = "The conversation was deleted, or is no longer visible to you."


@dataclass(frozen=True, slots=True)
class FeedOwner:
    """What a subscription tells the resolver about itself."""

    context: RequestContext
    """The subscription's own context (its credentials)."""
    initially_staff: bool


@dataclass(frozen=True, slots=True)
class AudienceEvent:
    """One event as one audience sees it, shared by all its subscribers."""

    event: OutboxEvent
    row: Any
    """The message as the audience sees it; None for DELETED."""
    primed: Primed
    cursor: str
    shared_results: dict[Any, Any] = field(default_factory=dict, compare=False)
    """Each operation's result for this audience (schema/event_execution.py)."""

    @property
    def position(self) -> int:
        return self.event.position

    def own_rows(self) -> Primed:
        """The batch's rows this event's selection reads by id: its conversation, its
        message and the message's sender (priming a whole batch per event would cost
        the batch's size for each of its events)."""
        rows: Primed = {ConversationByIdLoader: self.primed[ConversationByIdLoader]}
        if self.row is not None:
            rows[MessageByIdLoader] = {self.row.id: self.row}
            senders = self.primed[UserByIdLoader]
            if self.row.sender_id in senders:
                rows[UserByIdLoader] = {self.row.sender_id: senders[self.row.sender_id]}
        return rows


@dataclass(frozen=True, slots=True)
class AudienceBatch:
    events: list[AudienceEvent]
    conversation_gone: bool
    """The audience no longer sees the conversation: its subscriptions end after `events`."""


@dataclass(frozen=True, slots=True)
class Personal:
    """An audience's event for one subscriber (its viewer as of this batch)."""

    shared: AudienceEvent
    viewer: Viewer

    @property
    def position(self) -> int:
        return self.shared.event.position


Delivery = Personal | ClientError


def _audience(scope: Scope) -> tuple[str, uuid.UUID]:
    return ("client", scope.user_id) if scope.is_client else ("staff", scope.org_id)


async def resolve(
    subscribers: Sequence[Subscriber], events: Sequence[OutboxEvent]
) -> Mapping[Subscriber, list[Delivery]]:
    """What each subscriber receives of `events` (one conversation's, in order)."""
    result: dict[Subscriber, list[Delivery]] = {s: [] for s in subscribers}
    pending: list[Subscriber] = []
    for subscriber in subscribers:
        if _owner(subscriber).context.token_is_valid():
            pending.append(subscriber)
        else:
            result[subscriber] = [UnauthenticatedError("The token is no longer valid.")]
    # A staff member sees every user of the organization: the best representative.
    pending.sort(key=lambda s: not _owner(s).initially_staff)
    audiences: dict[tuple[str, uuid.UUID], list[tuple[Subscriber, Viewer]]] = {}
    shared: dict[tuple[str, uuid.UUID], AudienceBatch] = {}
    while pending:
        representative = pending[0]
        context = _owner(representative).context.fresh_scope()
        try:
            try:
                viewer = await context.viewer()
            except UnauthenticatedError as error:
                result[representative] = [error]
                pending.pop(0)
                continue
            # Staff of the events' organization see every user of it; a CLIENT (perhaps
            # demoted since it subscribed) sees no other client, and a member moved to
            # another organization none of this one: they speak for themselves only.
            org_id = events[0].org_id if events else viewer.scope.org_id
            for_all = not viewer.scope.is_client and viewer.scope.org_id == org_id
            known = [s for s in pending if for_all or s.viewer_id == viewer.user.id]
            users = await context.loader(UserByIdLoader).load_many([s.viewer_id for s in known])
            answered = {representative}
            for subscriber, user in zip(known, users, strict=True):
                if user is None:  # not in this organization now: speaks for itself next
                    if subscriber is representative:
                        gone = UnauthenticatedError("The token's user does not exist.")
                        result[subscriber] = [gone]
                    continue
                answered.add(subscriber)
                current = Viewer(user, Scope(viewer.scope.org_id, user.id, user.role))
                audiences.setdefault(_audience(current.scope), []).append((subscriber, current))
            pending = [s for s in pending if s not in answered]
            key = _audience(viewer.scope)
            if key in audiences:
                shared[key] = await _for_audience(context, viewer.scope, events)
        finally:
            await _close(context)
    for key, members in audiences.items():
        if key not in shared:
            shared[key] = await _as_member(members[0][0], events)
        batch = shared[key]
        for subscriber, viewer in members:
            result[subscriber] = [Personal(item, viewer) for item in batch.events]
            if batch.conversation_gone:
                result[subscriber].append(ConversationGoneError())
    return result


def _reader(context: RequestContext) -> OutboxReader:
    broadcaster = context.broadcaster
    assert broadcaster is not None  # a subscription starts only with a live feed
    return broadcaster.fanout.reader


def _owner(subscriber: Subscriber) -> FeedOwner:
    owner: FeedOwner = subscriber.owner
    return owner


async def _as_member(member: Subscriber, events: Sequence[OutboxEvent]) -> AudienceBatch:
    context = _owner(member).context.fresh_scope()
    try:
        viewer = await context.viewer()
        return await _for_audience(context, viewer.scope, events)
    except UnauthenticatedError:
        return AudienceBatch([], conversation_gone=False)
    finally:
        await _close(context)


async def _close(context: RequestContext) -> None:
    with suppress(ServiceUnavailableError):
        await context.close(commit=False)


async def _for_audience(
    context: RequestContext, scope: Scope, events: Sequence[OutboxEvent]
) -> AudienceBatch:
    """The events this audience receives, with the rows their selections read."""
    if not events:
        return AudienceBatch([], conversation_gone=False)
    conversation_id = events[0].conversation_id
    conversation = await context.loader(ConversationByIdLoader).load(conversation_id)
    wanted = [
        event
        for event in events
        if event.org_id == scope.org_id
        and not (event.is_internal and scope.is_client)
        # A conversation gone (a cascade delete) still tells its subscribers, who were
        # authorized for it, which messages went with it; nothing else.
        and (conversation is not None or event.kind is MessageEventKind.DELETED)
    ]
    ids = list({e.message_id for e in wanted if e.kind is not MessageEventKind.DELETED})
    rows = await context.loader(MessageByIdLoader).load_many(ids)
    messages = {key: row for key, row in zip(ids, rows, strict=True) if row is not None}
    senders = list({row.sender_id for row in messages.values()})
    users = await context.loader(UserByIdLoader).load_many(senders)
    primed: Primed = {
        ConversationByIdLoader: {} if conversation is None else {conversation_id: conversation},
        MessageByIdLoader: messages,
        UserByIdLoader: {key: row for key, row in zip(senders, users, strict=True)},
    }
    cursors = await event_cursor.cursors_of(_reader(context))
    resolved = []
    for event in wanted:
        row = None
        if event.kind is not MessageEventKind.DELETED:
            row = messages.get(event.message_id)
            if row is None or row.conversation_id != conversation_id:
                continue
        cursor = cursors.encode(conversation_id, event.position)
        resolved.append(AudienceEvent(event, row, primed, cursor))
    return AudienceBatch(resolved, conversation_gone=conversation is None)
