"""The statements of the write path, built for one scope: row locks under the readers'
visibility rules, INSERT/UPDATE/DELETE ... RETURNING. No SQL lives in the resolvers.

Every RETURNING lists the table's columns, so a written row has the shape of a read row
and the schema types build from either with `from_row`.
"""

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Delete, Insert, Select, Table, Update, delete, func, insert, select
from sqlalchemy import update as sql_update

from engagement_api.db import visibility
from engagement_api.db.enums import ProposalStatus
from engagement_api.db.models import Base, Conversation, Engagement, Message, Proposal
from engagement_api.db.queries import Visibility
from engagement_api.db.scope import Scope


def _table(model: type[Base]) -> Table:
    return model.__table__  # type: ignore[return-value]


class Lock(Enum):
    SHARE = "FOR SHARE"
    """Read a row whose state a write depends on (concurrent readers allowed)."""
    UPDATE = "FOR NO KEY UPDATE"
    """Change a row (children may still reference it meanwhile)."""
    DELETE = "FOR UPDATE"
    """Delete a row."""


def locked(
    model: type[Base], visible: Visibility, scope: Scope, row_id: uuid.UUID, lock: Lock
) -> Select[Any]:
    """The row if this viewer may see it, locked until the transaction ends."""
    table = _table(model)
    statement = select(table).where(table.c.id == row_id, visible(scope))
    return statement.with_for_update(read=lock is Lock.SHARE, key_share=lock is Lock.UPDATE)


def now() -> Any:
    """The transaction's time: every timestamp one mutation writes is the same instant."""
    return func.now()


def create(model: type[Base], **values: Any) -> Insert:
    table = _table(model)
    return insert(table).values(**values).returning(*table.c)


def update(model: type[Base], row_id: uuid.UUID, **values: Any) -> Update:
    """Set `values` and move `updated_at` (callers pass only values that really change)."""
    table = _table(model)
    return (
        sql_update(table)
        .where(table.c.id == row_id)
        .values(**values, updated_at=func.now())
        .returning(*table.c)
    )


def soft_delete(model: type[Base], row_id: uuid.UUID) -> Update:
    return update(model, row_id, deleted_at=func.now())


def delete_engagement(engagement_id: uuid.UUID) -> Delete:
    """The hard delete; the schema's cascades remove projects, conversations and messages,
    and set the orders' `engagement_id` to NULL."""
    return delete(Engagement).where(Engagement.id == engagement_id)


def unlink_converted_proposals(engagement_id: uuid.UUID) -> Update:
    """Keep the proposals converted into a doomed engagement (their key has no ON DELETE)."""
    return (
        sql_update(Proposal)
        .where(Proposal.converted_engagement_id == engagement_id)
        .values(converted_engagement_id=None, updated_at=func.now())
    )


def sign_sent_proposal(scope: Scope, proposal_id: uuid.UUID) -> Update:
    """SENT -> SIGNED as one conditional update: of concurrent signings exactly one gets
    the row back (the others wait for its lock, then find the status changed)."""
    table = _table(Proposal)
    return (
        sql_update(table)
        .where(
            table.c.id == proposal_id,
            table.c.status == ProposalStatus.SENT,
            visibility.proposals(scope),
        )
        .values(status=ProposalStatus.SIGNED, signed_at=func.now(), updated_at=func.now())
        .returning(*table.c)
    )


def record_message_activity(conversation_id: uuid.UUID, at: datetime, *, internal: bool) -> Update:
    """A posted message moves the conversation's activity times (never its `updated_at`)."""
    values: dict[str, Any] = {"last_message_at": func.greatest(Conversation.last_message_at, at)}
    if not internal:
        values["last_public_message_at"] = func.greatest(Conversation.last_public_message_at, at)
    table = _table(Conversation)
    return (
        sql_update(table).where(table.c.id == conversation_id).values(**values).returning(*table.c)
    )


def recompute_message_activity(conversation_id: uuid.UUID) -> Update:
    """Activity times from the conversation's remaining messages (after a delete)."""

    def newest(*conditions: Any) -> Any:
        return (
            select(func.max(Message.created_at))
            .where(
                Message.conversation_id == conversation_id,
                Message.deleted_at.is_(None),
                *conditions,
            )
            .scalar_subquery()
        )

    return (
        sql_update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            last_message_at=newest(),
            last_public_message_at=newest(Message.is_internal.is_(False)),
        )
    )
