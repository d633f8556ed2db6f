"""What every mutation shares: validation, its savepoint, refusals as payload errors,
visible-row lookups and locks, writes of real changes only, fresh loaders afterwards."""

import uuid
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any, TypeVar, cast

import strawberry

from engagement_api.context import RequestContext
from engagement_api.db import visibility, writes
from engagement_api.db.enums import EngagementStatus, Role
from engagement_api.db.models import Base, Engagement
from engagement_api.db.prepared import Row
from engagement_api.db.queries import Visibility
from engagement_api.db.writes import Lock
from engagement_api.loaders.base import ByIdLoader
from engagement_api.mutations.lifecycles import Lifecycle
from engagement_api.mutations.payloads import UserError
from engagement_api.mutations.refusals import (
    INPUT,
    Path,
    Refusal,
    forbidden,
    invalid_transition,
    not_found,
)
from engagement_api.mutations.validation import InputModel, validate
from engagement_api.resolvers.connections import check_selected_pages
from engagement_api.schema.info import request_context

PayloadT = TypeVar("PayloadT")
ModelT = TypeVar("ModelT", bound=InputModel)
R = TypeVar("R")
"""A row of one of the protocols in `db/rows.py`, or an untyped `Row`."""

ID: Path = (*INPUT, "id")


async def mutate(
    info: strawberry.Info[Any, Any],
    payload: Callable[..., PayloadT],
    model: type[ModelT],
    value: Any,
    work: Callable[[RequestContext, ModelT], Awaitable[PayloadT]],
) -> PayloadT:
    """Validate `value`, run `work` in a savepoint; a `Refusal` undoes its writes and becomes
    the payload's `errors`. Loaders start afresh afterwards, so the payload's nested fields
    (and later mutations of the document) never see rows cached before the write."""
    context = request_context(info)
    await context.viewer()
    check_selected_pages(info)  # the payload is read after the write: refuse it before
    recorded = len(context.events)
    try:
        data = validate(model, value)
        async with context.db.savepoint():
            result = await work(context, data)
    except Refusal as refusal:
        del context.events[recorded:]  # undone writes publish nothing
        result = payload(errors=[UserError.from_problem(problem) for problem in refusal.problems])
    except BaseException:
        del context.events[recorded:]
        raise
    context.forget_loaded()
    return result


async def one(context: RequestContext, write: writes.Write) -> Row:
    return (await context.db.execute(*write)).one()


async def lock_visible(
    context: RequestContext,
    model: type[Base],
    visible: Visibility,
    row_id: uuid.UUID,
    *,
    type_name: str,
    field: Path = ID,
    lock: Lock = Lock.UPDATE,
) -> Row:
    """The row, locked, if the viewer may see it; `NOT_FOUND` exactly as for no row at all."""
    statement = writes.locked(model, visible, context.scope, row_id, lock)
    row = (await context.db.execute(*statement)).first()
    if row is None:
        raise not_found(type_name, field)
    return row


async def lock_engagement_taking_work(
    context: RequestContext, engagement_id: uuid.UUID, what: str
) -> Row:
    """The `input.engagementId` engagement, share-locked so it cannot close meanwhile;
    INVALID_TRANSITION when it is CLOSED (it takes no new `what`)."""
    field = (*INPUT, "engagementId")
    engagement = await lock_visible(
        context,
        Engagement,
        visibility.engagements,
        engagement_id,
        type_name="Engagement",
        field=field,
        lock=Lock.SHARE,
    )
    if engagement.status is EngagementStatus.CLOSED:
        raise invalid_transition(f"A CLOSED engagement takes no new {what}.", field)
    return engagement


async def load_visible(
    context: RequestContext,
    loader: type[ByIdLoader],
    row_id: uuid.UUID,
    *,
    type_name: str,
    field: Path,
) -> Row:
    """A row the write only refers to (not locked), through the readers' loader."""
    row = await context.loader(loader).load(row_id)
    if row is None:
        raise not_found(type_name, field)
    return row


async def update_changed(
    context: RequestContext, model: type[Base], row: R, values: dict[str, Any]
) -> R:
    """Write only the values that differ from `row`; nothing at all (not even `updated_at`)
    when none does."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    return await write_values(context, model, row, changed)


async def write_values(
    context: RequestContext, model: type[Base], row: R, values: dict[str, Any]
) -> R:
    """`row` updated with `values` (and a new `updated_at`); `row` itself when there are none.
    The update returns every column of the table, so the new row has whatever `row` had."""
    if not values:
        return row
    row_id = cast(Row, row).id
    return cast(R, await one(context, writes.update(model, row_id, **values)))


def status_values(lifecycle: Lifecycle, current: IntEnum, target: IntEnum) -> dict[str, Any]:
    """The columns a status change writes; `INVALID_TRANSITION` for a move the lifecycle
    does not allow. Setting the current status again writes nothing."""
    if current == target:
        return {}
    if not lifecycle.allows(current, target):
        raise invalid_transition(
            f"The status cannot change from {current.name} to {target.name}.",
            (*INPUT, "status"),
        )
    stamp, clear = lifecycle.stamps(current, target)
    values: dict[str, Any] = {"status": target}
    if clear is not None:
        values[clear] = None
    if stamp is not None:  # after the row's lock was granted: later than what held it
        values[stamp] = values["updated_at"] = writes.STATEMENT_TIME
    return values


def require_author_or_admin(context: RequestContext, sender_id: uuid.UUID) -> None:
    """Messages are changed by their sender; an ADMIN may change any."""
    scope = context.scope
    if sender_id != scope.user_id and scope.role is not Role.ADMIN:
        raise forbidden("Only the sender (or an ADMIN) may change this message.")
