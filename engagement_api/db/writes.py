"""The statements of the write path, built for one scope: row locks under the readers'
visibility rules, INSERT/UPDATE/DELETE ... RETURNING. No SQL lives in the resolvers.

Every RETURNING lists the table's columns, so a written row has the shape of a read row
and the schema types build from either with `from_row`.

Each function answers a `Write`: the statement and its parameters. The writes every
mutation makes (a row created, updated or locked, a message's activity) are templates,
built once per shape (model, column names, viewer role) with their values bound, so they
are compiled once (`db/prepared.py`); the rest are built per call with their values inline
(parameters None) and compiled for their run.
"""

import uuid
from collections.abc import Hashable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    ClauseElement,
    Executable,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy import update as sql_update

from engagement_api.db import visibility
from engagement_api.db.enums import ProposalStatus
from engagement_api.db.models import Base, Conversation, Engagement, Message, Order, Proposal
from engagement_api.db.queries import Visibility
from engagement_api.db.scope import Scope, scope_parameters, symbolic_scope

Write = tuple[Executable, dict[str, Any] | None]
"""A statement and its parameters (None: its values are inline), for `DatabaseSession.execute`."""

_TEMPLATES: dict[Hashable, Executable] = {}
"""Write templates by shape; the shapes are few (models x column sets x roles)."""

NOW: Any = func.now()
"""The transaction's time: every timestamp one mutation writes is the same instant. One
object, so a template can hold it inline."""
STATEMENT_TIME: Any = func.statement_timestamp()
"""The time the statement began, the same for every column it writes: what a row written
under a lock that orders it must carry, so that its time follows that order."""


def _table(model: type[Base]) -> Table:
    return model.__table__  # type: ignore[return-value]


class Lock(Enum):
    SHARE = "FOR SHARE"
    """Read a row whose state a write depends on (concurrent readers allowed)."""
    UPDATE = "FOR NO KEY UPDATE"
    """Change a row (children may still reference it meanwhile)."""
    DELETE = "FOR UPDATE"
    """Delete a row."""


def _template(key: Hashable, build: Any) -> Executable:
    template = _TEMPLATES.get(key)
    if template is None:
        template = _TEMPLATES[key] = build()
    return template


ROW_ID = "row_id"


def _row_id(table: Table) -> Any:
    return bindparam(ROW_ID, type_=table.c.id.type)


def locked(
    model: type[Base], visible: Visibility, scope: Scope, row_id: uuid.UUID, lock: Lock
) -> Write:
    """The row if this viewer may see it, locked until the transaction ends."""

    def build() -> Executable:
        table = _table(model)
        statement = select(table).where(
            table.c.id == _row_id(table), visible(symbolic_scope(scope.role))
        )
        return statement.with_for_update(read=lock is Lock.SHARE, key_share=lock is Lock.UPDATE)

    template = _template(("locked", model, visible, scope.role, lock), build)
    return template, {ROW_ID: row_id, **scope_parameters(scope)}


def _bound(
    table: Table, values: Mapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]] | None:
    """(shape, the template's values, the parameters) for `values`; None when one is a SQL
    expression other than `NOW` or `STATEMENT_TIME` (then the statement is built per call)."""
    shape, inline, parameters = [], {}, {}
    for name, value in values.items():
        if value is NOW or value is STATEMENT_TIME:
            shape.append((name, "now" if value is NOW else "statement"))
            inline[name] = value
        elif isinstance(value, ClauseElement):
            return None
        else:
            shape.append((name, "bound"))
            inline[name] = bindparam(f"value_{name}", type_=table.c[name].type)
            parameters[f"value_{name}"] = value
    return tuple(shape), inline, parameters


def create(model: type[Base], **values: Any) -> Write:
    table = _table(model)
    bound = _bound(table, values)
    if bound is None:
        return insert(table).values(**values).returning(*table.c), None
    shape, inline, parameters = bound
    template = _template(
        ("create", model, shape), lambda: insert(table).values(inline).returning(*table.c)
    )
    return template, parameters


def update(model: type[Base], row_id: uuid.UUID, **values: Any) -> Write:
    """Set `values` and move `updated_at` to the transaction's time, unless `values` move it
    (callers pass only values that really change)."""
    table = _table(model)
    values = {"updated_at": NOW, **values}
    bound = _bound(table, values)
    if bound is None:
        statement = sql_update(table).where(table.c.id == row_id).values(**values)
        return statement.returning(*table.c), None
    shape, inline, parameters = bound

    def build() -> Executable:
        statement = sql_update(table).where(table.c.id == _row_id(table)).values(inline)
        return statement.returning(*table.c)

    return _template(("update", model, shape), build), {**parameters, ROW_ID: row_id}


def soft_delete(model: type[Base], row_id: uuid.UUID) -> Write:
    return update(model, row_id, deleted_at=STATEMENT_TIME, updated_at=STATEMENT_TIME)


def delete_engagement(engagement_id: uuid.UUID) -> Write:
    """The hard delete; the schema's cascades remove projects, conversations and messages
    (its orders and proposals are unlinked before, with a new `updated_at`)."""
    return delete(Engagement).where(Engagement.id == engagement_id), None


def unlink_orders(engagement_id: uuid.UUID) -> Write:
    """Keep a doomed engagement's orders, unlinked: the schema's ON DELETE SET NULL would
    change them without moving their `updated_at`."""
    return _unlinked(Order.engagement_id, engagement_id)


def unlink_converted_proposals(engagement_id: uuid.UUID) -> Write:
    """Keep the proposals converted into a doomed engagement (their key has no ON DELETE)."""
    return _unlinked(Proposal.converted_engagement_id, engagement_id)


def lock_converted_proposals(engagement_id: uuid.UUID) -> Write:
    """The proposals converted into an engagement, locked before the engagement is: a
    signing locks its proposal, then references the engagement from its new order; a
    delete taking them the other way round would deadlock with it."""
    return (
        select(Proposal.id)
        .where(Proposal.converted_engagement_id == engagement_id)
        .with_for_update(key_share=True)
    ), None


def lock_engagement_of_conversation(conversation_id: uuid.UUID) -> Write:
    """The status of a conversation's engagement, share-locked before the conversation is
    (the order an engagement's delete takes them in): the engagement cannot close, or go,
    until the post commits."""
    return _lock_parent(Conversation.engagement_id, Engagement.status, conversation_id, share=True)


def lock_conversation_of_message(message_id: uuid.UUID) -> Write:
    """The conversation of a message, locked before the message is: posts and an
    engagement's hard delete take a conversation before its messages, and an edit or
    delete taking them the other way round would deadlock with them."""
    return _lock_parent(Message.conversation_id, Conversation.id, message_id, share=False)


def _lock_parent(reference: Any, selected: Any, child_id: uuid.UUID, *, share: bool) -> Write:
    """`selected` of the row the child's `reference` points at, locked FOR SHARE (`share`)
    or FOR NO KEY UPDATE; one template per pair, the child's id bound."""

    def build() -> Executable:
        parent, child = _table(selected.class_), _table(reference.class_)
        of_child = select(child.c[reference.key]).where(child.c.id == _row_id(child))
        return (
            select(parent.c[selected.key])
            .where(parent.c.id == of_child.scalar_subquery())
            .with_for_update(read=share, key_share=not share)
        )

    key = ("lock parent", str(reference), str(selected), share)
    return _template(key, build), {ROW_ID: child_id}


def _unlinked(key: Any, engagement_id: uuid.UUID) -> Write:
    """The rows whose `key` points at the engagement, pointing nowhere, as a change."""
    return (
        sql_update(key.class_).where(key == engagement_id).values({key: None, "updated_at": NOW})
    ), None


def sign_sent_proposal(scope: Scope, proposal_id: uuid.UUID) -> Write:
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
        .values(status=ProposalStatus.SIGNED, signed_at=NOW, updated_at=NOW)
        .returning(*table.c)
    ), None


def record_message_activity(conversation_id: uuid.UUID, at: datetime, *, internal: bool) -> Write:
    """A posted message moves the conversation's activity times (never its `updated_at`)."""

    def build() -> Executable:
        table = _table(Conversation)
        moment = bindparam("at", type_=table.c.last_message_at.type)
        values: dict[str, Any] = {"last_message_at": func.greatest(table.c.last_message_at, moment)}
        if not internal:
            values["last_public_message_at"] = func.greatest(table.c.last_public_message_at, moment)
        statement = sql_update(table).where(table.c.id == _row_id(table)).values(**values)
        return statement.returning(*table.c)

    template = _template(("activity", internal), build)
    return template, {ROW_ID: conversation_id, "at": at}


def recompute_message_activity(conversation_id: uuid.UUID) -> Write:
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
    ), None
