"""The root Query: thin fields over loaders and connections."""

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from engagement_api.loaders import (
    ConversationByIdLoader,
    ConversationsByEngagementIdLoader,
    EngagementByIdLoader,
    EngagementsLoader,
    MessagesByConversationIdLoader,
    OrdersByEngagementIdLoader,
    ProjectsByEngagementIdLoader,
    ProposalsLoader,
    ServicesByOrganizationIdLoader,
)
from engagement_api.resolvers.connections import filter_values, load_parent, resolve_connection
from engagement_api.resolvers.nodes import resolve_node, resolve_nodes
from engagement_api.schema.enums import EngagementStatus, ProposalStatus
from engagement_api.schema.ids import parse_global_id
from engagement_api.schema.info import request_context
from engagement_api.schema.node import Connection, Node
from engagement_api.schema.permissions import IsAuthenticated, describe
from engagement_api.schema.types.conversation import Conversation
from engagement_api.schema.types.engagement import Engagement
from engagement_api.schema.types.proposal import Proposal
from engagement_api.schema.types.service import Service
from engagement_api.schema.types.viewer import Viewer
from engagement_api.uuids import NO_ROW

AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated]
CONVERSATION_PAGES = {"messages": MessagesByConversationIdLoader}
ENGAGEMENT_PAGES = {
    "projects": ProjectsByEngagementIdLoader,
    "conversations": ConversationsByEngagementIdLoader,
    "orders": OrdersByEngagementIdLoader,
}
"""The connections a lookup by id may read with its parent in one statement (`load_parent`)."""


def _field(description: str | None = None) -> Any:
    return strawberry.field(
        description=describe(description, *AUTHENTICATED), permission_classes=AUTHENTICATED
    )


@strawberry.type
class Query:
    @_field("Any object by its global ID; null if it does not exist for this viewer.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]

    @_field("Objects by global IDs, in order; null where one does not exist for this viewer.")
    async def nodes(self, info: strawberry.Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return await resolve_nodes(info, list(ids))

    @_field()
    async def viewer(self, info: strawberry.Info) -> Viewer:
        return Viewer.from_row((await request_context(info).viewer()).user)

    @_field("Newest first. A CLIENT sees only its own engagements.")
    async def engagements(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: list[EngagementStatus] | None = None,
        client_id: strawberry.ID | None = None,
    ) -> Connection[Engagement]:
        client = None if client_id is None else [parse_global_id(client_id, "User") or NO_ROW]
        return await resolve_connection(
            info,
            EngagementsLoader,
            None,
            Engagement.from_row,
            filters=filter_values(status=status, clientId=client),
            first=first,
            after=after,
        )

    @_field()
    async def engagement(self, info: strawberry.Info, id: strawberry.ID) -> Engagement | None:
        engagement_id = parse_global_id(id, "Engagement")
        row = await load_parent(info, EngagementByIdLoader, ENGAGEMENT_PAGES, engagement_id)
        return Engagement.from_row(row) if row else None

    @_field()
    async def conversation(self, info: strawberry.Info, id: strawberry.ID) -> Conversation | None:
        conversation_id = parse_global_id(id, "Conversation")
        row = await load_parent(info, ConversationByIdLoader, CONVERSATION_PAGES, conversation_id)
        return Conversation.from_row(row) if row else None

    @_field("Newest first. A CLIENT sees only proposals addressed to it.")
    async def proposals(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: list[ProposalStatus] | None = None,
    ) -> Connection[Proposal]:
        return await resolve_connection(
            info,
            ProposalsLoader,
            None,
            Proposal.from_row,
            filters=filter_values(status=status),
            first=first,
            after=after,
        )

    @_field("The organization's service catalogue, by name.")
    async def services(self, info: strawberry.Info) -> list[Service]:
        context = request_context(info)
        rows = await context.loader(ServicesByOrganizationIdLoader).load(context.scope.org_id)
        return [Service.from_row(row) for row in rows]
