"""What a read row of each model holds, for the type checker: the columns `read_columns`
reads, typed as the model declares them.

Rows are the driver's records under a row class (`prepared.py`), joined rows are named
tuples (`loaders/base.py`) and a mutation's rows come back from its `RETURNING`: none has
a class of its own to annotate, so each object type's `from_row` takes the protocol of its
model's row, and mypy checks every column it reads against it. `tests/test_row_types.py`
holds these to the models.
"""

import uuid
from datetime import datetime
from typing import Any, Protocol

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)

__all__ = [
    "ConversationRow",
    "EngagementRow",
    "MessageRow",
    "OrderRow",
    "OrganizationRow",
    "ProjectRow",
    "ProposalRow",
    "ServiceRow",
    "StoredMessageRow",
    "UserRow",
    "ViewerRow",
]


class OrganizationRow(Protocol):
    id: uuid.UUID
    name: str
    created_at: datetime


class UserRow(Protocol):
    id: uuid.UUID
    email: str
    name: str
    role: Role


class ViewerRow(UserRow, Protocol):
    """The viewer's own row (`engagement_viewer`): every column of `users`."""

    org_id: uuid.UUID
    created_at: datetime


class ServiceRow(Protocol):
    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime


class ProposalRow(Protocol):
    id: uuid.UUID
    org_id: uuid.UUID
    client_id: uuid.UUID
    service_id: uuid.UUID | None
    title: str
    amount_cents: int
    currency: str
    status: ProposalStatus
    signed_at: datetime | None
    converted_order_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    converted_engagement_id: uuid.UUID | None


class OrderRow(Protocol):
    id: uuid.UUID
    org_id: uuid.UUID
    client_id: uuid.UUID
    proposal_id: uuid.UUID | None
    amount_cents: int
    currency: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    engagement_id: uuid.UUID | None


class EngagementRow(Protocol):
    id: uuid.UUID
    org_id: uuid.UUID
    client_id: uuid.UUID
    name: str | None
    status: EngagementStatus
    proposal_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ProjectRow(Protocol):
    id: uuid.UUID
    engagement_id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str | None
    status: ProjectStatus
    phase: ProjectPhase
    service_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None


class ConversationRow(Protocol):
    id: uuid.UUID
    engagement_id: uuid.UUID
    org_id: uuid.UUID
    subject: str | None
    status: ConversationStatus
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    last_public_message_at: datetime | None


class MessageRow(Protocol):
    id: uuid.UUID
    conversation_id: uuid.UUID
    sender_id: uuid.UUID
    content: str
    is_internal: bool
    attachments: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime


class StoredMessageRow(MessageRow, Protocol):
    """Every column of a message, as a write's `RETURNING` and a locking read give it."""

    org_id: uuid.UUID
    deleted_at: datetime | None
