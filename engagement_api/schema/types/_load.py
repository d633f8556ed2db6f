"""How a type's relation field reads: through a by-id loader, required or not."""

import uuid
from collections.abc import Callable
from typing import Any

import strawberry

from engagement_api.loaders.base import ByIdLoader
from engagement_api.schema.info import request_context


async def load_row(
    info: strawberry.Info[Any, Any], loader: type[ByIdLoader], row_id: uuid.UUID | None
) -> Any:
    if row_id is None:
        return None
    return await request_context(info).loader(loader).load(row_id)


async def load_required_row(
    info: strawberry.Info[Any, Any], loader: type[ByIdLoader], row_id: uuid.UUID
) -> Any:
    row = await load_row(info, loader, row_id)
    if row is None:
        raise LookupError(f"{loader.__name__} found nothing for a non-null relation")
    return row


def related(
    info: strawberry.Info[Any, Any],
    loader: type[ByIdLoader],
    row_id: uuid.UUID,
    make: Callable[[Any], Any],
) -> Any:
    """A required relation for a SYNC resolver: `make(row)` at once when the request already
    holds the row (a page statement joined it in, see `Loader.prime_joined`), otherwise an
    awaitable of it (GraphQL awaits what a resolver returns). Hundreds of message senders
    then cost neither a coroutine, a task nor a statement each, and each distinct sender is
    built once per request."""
    found, made = request_context(info).loader(loader).built(row_id, make)
    if not found:
        return _make_later(info, loader, row_id, make)
    if made is None:
        raise LookupError(f"{loader.__name__} found nothing for a non-null relation")
    return made


async def _make_later(
    info: strawberry.Info[Any, Any],
    loader: type[ByIdLoader],
    row_id: uuid.UUID,
    make: Callable[[Any], Any],
) -> Any:
    return make(await load_required_row(info, loader, row_id))
