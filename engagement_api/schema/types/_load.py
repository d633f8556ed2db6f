"""The two ways a type's relation field reads: through a by-id loader, required or not."""

import uuid
from typing import Any

import strawberry

from engagement_api.resolvers.loaders.base import ByIdLoader
from engagement_api.schema.context import request_context


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
