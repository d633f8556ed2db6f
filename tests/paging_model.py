"""A plain-Python reference model of what each viewer reads through each connection.

It knows nothing of the server: the rows of a world as written, the visibility rules of
domain-rules.md §2 (organization, role, a CLIENT's own client id, internal messages, soft
deletes, proposal statuses) and each connection's documented order (§4 and the contract's
field descriptions), every order ending with the id. The differential test compares every
page the server answers with the slices of these lists.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    gid: str
    org: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class User(Row):
    role: Role
    token: str


@dataclass(frozen=True)
class Engagement(Row):
    client: uuid.UUID
    status: EngagementStatus


@dataclass(frozen=True)
class Project(Row):
    engagement: uuid.UUID
    status: ProjectStatus
    phase: ProjectPhase
    deleted: bool


@dataclass(frozen=True)
class Conversation(Row):
    engagement: uuid.UUID
    status: ConversationStatus


@dataclass(frozen=True)
class Message(Row):
    conversation: uuid.UUID
    internal: bool
    deleted: bool


@dataclass(frozen=True)
class Order(Row):
    client: uuid.UUID
    engagement: uuid.UUID | None
    status: OrderStatus


@dataclass(frozen=True)
class Proposal(Row):
    client: uuid.UUID
    status: ProposalStatus


@dataclass
class Model:
    """The rows of a world, and what each viewer may read of them, in connection order."""

    users: list[User] = field(default_factory=list)
    engagements: list[Engagement] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    # Visibility (domain rules §2) ----------------------------------------------------------

    def _engagement(self, engagement_id: uuid.UUID) -> Engagement:
        return next(row for row in self.engagements if row.id == engagement_id)

    def _conversation(self, conversation_id: uuid.UUID) -> Conversation:
        return next(row for row in self.conversations if row.id == conversation_id)

    def sees_engagement(self, viewer: User, row: Engagement) -> bool:
        same_org = row.org == viewer.org
        return same_org and (viewer.role is not Role.CLIENT or row.client == viewer.id)

    def sees_project(self, viewer: User, row: Project) -> bool:
        parent = self._engagement(row.engagement)
        return not row.deleted and self.sees_engagement(viewer, parent)

    def sees_conversation(self, viewer: User, row: Conversation) -> bool:
        return self.sees_engagement(viewer, self._engagement(row.engagement))

    def sees_message(self, viewer: User, row: Message) -> bool:
        if row.deleted or (row.internal and viewer.role is Role.CLIENT):
            return False
        return self.sees_conversation(viewer, self._conversation(row.conversation))

    def sees_order(self, viewer: User, row: Order) -> bool:
        same_org = row.org == viewer.org
        return same_org and (viewer.role is not Role.CLIENT or row.client == viewer.id)

    def sees_proposal(self, viewer: User, row: Proposal) -> bool:
        if row.org != viewer.org:
            return False
        if viewer.role is not Role.CLIENT:
            return True
        return row.client == viewer.id and row.status is not ProposalStatus.DRAFT

    def last_message_at(self, viewer: User, row: Conversation) -> datetime | None:
        """The newest message this viewer may see of the conversation (None: never one)."""
        times = [
            message.created_at
            for message in self.messages
            if message.conversation == row.id and self.sees_message(viewer, message)
        ]
        return max(times, default=None)

    # Connections, in their documented orders ----------------------------------------------

    def engagements_of(
        self,
        viewer: User,
        status: Sequence[EngagementStatus] | None = None,
        client: uuid.UUID | None = None,
    ) -> list[Engagement]:
        """Newest first."""
        rows = [row for row in self.engagements if self.sees_engagement(viewer, row)]
        rows = [row for row in rows if status is None or row.status in status]
        rows = [row for row in rows if client is None or row.client == client]
        return _newest_first(rows)

    def proposals_of(
        self, viewer: User, status: Sequence[ProposalStatus] | None = None
    ) -> list[Proposal]:
        """Newest first."""
        rows = [row for row in self.proposals if self.sees_proposal(viewer, row)]
        return _newest_first([row for row in rows if status is None or row.status in status])

    def projects_of(
        self,
        viewer: User,
        engagement: uuid.UUID,
        status: Sequence[ProjectStatus] | None = None,
        phase: Sequence[ProjectPhase] | None = None,
    ) -> list[Project]:
        """By phase (KICKOFF first), then creation, then id."""
        rows = [
            row
            for row in self.projects
            if row.engagement == engagement
            and self.sees_project(viewer, row)
            and (status is None or row.status in status)
            and (phase is None or row.phase in phase)
        ]
        return sorted(rows, key=lambda row: (row.phase, row.created_at, row.id))

    def conversations_of(
        self, viewer: User, engagement: uuid.UUID, status: ConversationStatus | None = None
    ) -> list[Conversation]:
        """The viewer's lastMessageAt newest first, never-messaged ones last; then creation
        newest first, then id."""
        rows = [
            row
            for row in self.conversations
            if row.engagement == engagement
            and self.sees_conversation(viewer, row)
            and (status is None or row.status is status)
        ]

        def activity(row: Conversation) -> tuple[Any, ...]:
            last = self.last_message_at(viewer, row)
            return (last is not None, last or row.created_at, row.created_at, row.id)

        return sorted(rows, key=activity, reverse=True)

    def orders_of(self, viewer: User, engagement: uuid.UUID) -> list[Order]:
        """Newest first."""
        rows = [
            row
            for row in self.orders
            if row.engagement == engagement and self.sees_order(viewer, row)
        ]
        return _newest_first(rows)

    def messages_of(self, viewer: User, conversation: uuid.UUID) -> list[Message]:
        """Chronological, then id."""
        rows = [
            row
            for row in self.messages
            if row.conversation == conversation and self.sees_message(viewer, row)
        ]
        return sorted(rows, key=lambda row: (row.created_at, row.id))


R = TypeVar("R", bound=Row)


def _newest_first(rows: list[R]) -> list[R]:
    return sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)


@dataclass(frozen=True)
class Page:
    """What one page request must answer, as the Relay connection spec defines it."""

    ids: list[str]
    total: int
    has_next: bool
    has_previous: bool


def forward_page(rows: Sequence[Row], after: int | None, first: int) -> Page:
    """The page of `first` rows after the row at position `after` (None: from the start).
    hasPreviousPage is true when rows precede the cursor (the cursor's own row does)."""
    start = 0 if after is None else after + 1
    chosen = rows[start : start + first]
    has_previous = after is not None and start > 0
    return Page([row.gid for row in chosen], len(rows), start + first < len(rows), has_previous)


def backward_page(rows: Sequence[Row], before: int | None, last: int) -> Page:
    """The page of `last` rows before the row at position `before` (None: up to the end).
    hasNextPage is true when rows follow the cursor (the cursor's own row does)."""
    end = len(rows) if before is None else before
    start = max(0, end - last)
    chosen = rows[start:end]
    has_next = before is not None and end < len(rows)
    return Page([row.gid for row in chosen], len(rows), has_next, start > 0)
