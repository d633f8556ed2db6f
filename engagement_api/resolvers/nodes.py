"""Relay object identification: any global ID to its object, through the type's loader."""

import asyncio
from collections.abc import Callable
from typing import Any

import strawberry

from engagement_api import loaders
from engagement_api.loaders.base import ByIdLoader
from engagement_api.schema.ids import from_global_id
from engagement_api.schema.info import request_context


def _node_types() -> dict[str, tuple[type[ByIdLoader], Callable[[Any], Any]]]:
    from engagement_api.schema.types.conversation import Conversation
    from engagement_api.schema.types.engagement import Engagement
    from engagement_api.schema.types.message import Message
    from engagement_api.schema.types.order import Order
    from engagement_api.schema.types.organization import Organization
    from engagement_api.schema.types.project import Project
    from engagement_api.schema.types.proposal import Proposal
    from engagement_api.schema.types.service import Service
    from engagement_api.schema.types.user import User

    types: dict[str, Any] = {
        "Conversation": Conversation,
        "Engagement": Engagement,
        "Message": Message,
        "Order": Order,
        "Organization": Organization,
        "Project": Project,
        "Proposal": Proposal,
        "Service": Service,
        "User": User,
    }
    return {name: (loaders.BY_ID[name], kind.from_row) for name, kind in types.items()}


_NODE_TYPES: dict[str, tuple[type[ByIdLoader], Callable[[Any], Any]]] = {}


async def resolve_node(info: strawberry.Info[Any, Any], global_id: str) -> Any:
    """The object, or None when the ID is malformed, unknown or not visible to the viewer."""
    if not _NODE_TYPES:
        _NODE_TYPES.update(_node_types())
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in _NODE_TYPES:
        return None
    loader, make = _NODE_TYPES[decoded[0]]
    row = await request_context(info).loader(loader).load(decoded[1])
    return make(row) if row is not None else None


async def resolve_nodes(info: strawberry.Info[Any, Any], global_ids: list[str]) -> list[Any]:
    return list(await asyncio.gather(*(resolve_node(info, gid) for gid in global_ids)))
