"""Factories: rows the public API cannot create (organizations, users, services,
proposals, orders) and quick fixtures of the rest, written as the owner role."""

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.auth import mint_token
from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)
from engagement_api.db.models import (
    Base,
    Conversation,
    Engagement,
    Message,
    Order,
    Organization,
    Project,
    Proposal,
    Service,
    User,
)
from engagement_api.schema.ids import to_global_id
from engagement_api.settings import Settings

_sequence = itertools.count(1)
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    """A row written by a factory: its uuid, its global ID, and (for users) a token."""

    id: uuid.UUID
    gid: str
    token: str = ""
    org_id: uuid.UUID | None = None


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.settings = Settings()

    async def _insert(self, model: type[Base], type_name: str, **values: Any) -> Made:
        async with self.engine.begin() as connection:
            row_id = (
                await connection.execute(insert(model).values(**values).returning(model.id))  # type: ignore[attr-defined]
            ).scalar_one()
        return Made(row_id, to_global_id(type_name, row_id), org_id=values.get("org_id"))

    async def organization(self, name: str = "Org") -> Made:
        return await self._insert(Organization, "Organization", name=f"{name} {next(_sequence)}")

    async def user(self, org: Made, role: Role = Role.STAFF, name: str | None = None) -> Made:
        n = next(_sequence)
        made = await self._insert(
            User,
            "User",
            org_id=org.id,
            email=f"{role.name.lower()}{n}@example.test",
            name=name or f"{role.name.title()} {n}",
            role=role,
        )
        token = mint_token(made.id, self.settings)
        return Made(made.id, made.gid, token, org.id)

    async def service(self, org: Made, name: str = "Service", **values: Any) -> Made:
        return await self._insert(Service, "Service", org_id=org.id, name=name, **values)

    async def proposal(
        self, org: Made, client: Made, status: ProposalStatus = ProposalStatus.SENT, **values: Any
    ) -> Made:
        defaults: dict[str, Any] = {"title": "Website rebuild", "amount_cents": 500_000}
        return await self._insert(
            Proposal,
            "Proposal",
            org_id=org.id,
            client_id=client.id,
            status=status,
            currency="EUR",
            **{**defaults, **values},
        )

    async def engagement(
        self,
        org: Made,
        client: Made,
        status: EngagementStatus = EngagementStatus.ACTIVE,
        **values: Any,
    ) -> Made:
        return await self._insert(
            Engagement, "Engagement", org_id=org.id, client_id=client.id, status=status, **values
        )

    async def project(
        self,
        engagement: Made,
        phase: ProjectPhase = ProjectPhase.KICKOFF,
        status: ProjectStatus = ProjectStatus.ACTIVE,
        **values: Any,
    ) -> Made:
        values.setdefault("name", f"Project {next(_sequence)}")
        return await self._insert(
            Project,
            "Project",
            org_id=engagement.org_id,
            engagement_id=engagement.id,
            phase=phase,
            status=status,
            **values,
        )

    async def conversation(
        self, engagement: Made, status: ConversationStatus = ConversationStatus.OPEN, **values: Any
    ) -> Made:
        return await self._insert(
            Conversation,
            "Conversation",
            org_id=engagement.org_id,
            engagement_id=engagement.id,
            status=status,
            **values,
        )

    async def message(
        self,
        conversation: Made,
        sender: Made,
        content: str = "Hello",
        *,
        is_internal: bool = False,
        at: datetime | None = None,
        **values: Any,
    ) -> Made:
        created = at or BASE_TIME + timedelta(seconds=next(_sequence))
        made = await self._insert(
            Message,
            "Message",
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            sender_id=sender.id,
            content=content,
            is_internal=is_internal,
            created_at=created,
            updated_at=created,
            **values,
        )
        await self._touch_conversation(conversation, created, is_internal)
        return made

    async def _touch_conversation(self, conversation: Made, at: datetime, internal: bool) -> None:
        from sqlalchemy import func, update

        values: dict[str, Any] = {
            "last_message_at": func.greatest(Conversation.last_message_at, at)
        }
        if not internal:
            values["last_public_message_at"] = func.greatest(
                Conversation.last_public_message_at, at
            )
        async with self.engine.begin() as connection:
            await connection.execute(
                update(Conversation).where(Conversation.id == conversation.id).values(**values)
            )

    async def order(
        self,
        org: Made,
        client: Made,
        engagement: Made | None = None,
        status: OrderStatus = OrderStatus.PENDING,
        **values: Any,
    ) -> Made:
        return await self._insert(
            Order,
            "Order",
            org_id=org.id,
            client_id=client.id,
            engagement_id=engagement.id if engagement else None,
            status=status,
            amount_cents=values.pop("amount_cents", 100_00),
            currency="EUR",
            **values,
        )

    async def dashboard_of(self, engagements: int) -> Made:
        """A new organization's STAFF member, with `engagements` engagements, each with a
        client, a project, an order and a conversation of two messages (one each)."""
        org = await self.organization()
        staff = await self.user(org, Role.STAFF)
        for n in range(engagements):
            client = await self.user(org, Role.CLIENT)
            engagement = await self.engagement(org, client, name=f"E{n}")
            await self.project(engagement)
            await self.order(org, client, engagement)
            conversation = await self.conversation(engagement)
            await self.message(conversation, staff)
            await self.message(conversation, client)
        return staff
