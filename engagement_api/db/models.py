"""SQLAlchemy 2.0 typed models of every table: the pre-existing ones and the design's."""

import uuid
from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)

# PostgreSQL's own default constraint names, so the ORM and the design's DDL agree.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}


class IntEnumColumn(TypeDecorator[IntEnum]):
    """Stores an IntEnum as the design's integer code and reads it back as the enum."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum: type[IntEnum], *, small: bool = False) -> None:
        super().__init__()
        self.enum = enum
        self.small = small
        # The members by code, and None for NULL; an unknown code is a KeyError.
        self._members: dict[Any, IntEnum | None] = {None: None}
        self._members.update((member.value, member) for member in enum)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(SmallInteger() if self.small else Integer())

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> IntEnum | None:
        return self._members[value]

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        """A table lookup in C (`dict.__getitem__`): TypeDecorator's processor is two Python
        calls per row and column (a thread page reads a role per message)."""
        return self._members.__getitem__


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _now(nullable: bool = False) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=nullable, server_default=text("now()"))


def _tenant() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = _now()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    org_id: Mapped[uuid.UUID] = _tenant()
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(IntEnumColumn(Role, small=True), nullable=False)
    created_at: Mapped[datetime] = _now()


class Service(Base):
    __tablename__ = "services"

    id: Mapped[uuid.UUID] = _uuid_pk()
    org_id: Mapped[uuid.UUID] = _tenant()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


AMOUNT_WITHIN_GRAPHQL_INT = "amount_cents BETWEEN -2147483648 AND 2147483647"
"""The API serves amounts as GraphQL's 32-bit `Int` (migration 0008)."""


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(AMOUNT_WITHIN_GRAPHQL_INT, name="proposals_amount_cents_int"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    org_id: Mapped[uuid.UUID] = _tenant()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("services.id"))
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(CHAR(3), nullable=False)
    status: Mapped[ProposalStatus] = mapped_column(
        IntEnumColumn(ProposalStatus, small=True), nullable=False, server_default=text("1")
    )
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", use_alter=True)
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    converted_engagement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("engagements.id", use_alter=True)
    )


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("idx_orders_engagement_id", "engagement_id"),
        CheckConstraint(AMOUNT_WITHIN_GRAPHQL_INT, name="orders_amount_cents_int"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    org_id: Mapped[uuid.UUID] = _tenant()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposals.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(CHAR(3), nullable=False)
    status: Mapped[OrderStatus] = mapped_column(
        IntEnumColumn(OrderStatus, small=True), nullable=False, server_default=text("1")
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL", use_alter=True)
    )


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        Index("idx_engagements_org_id", "org_id"),
        Index("idx_engagements_client_id", "client_id"),
        Index("idx_engagements_status", "status"),
        Index(
            "idx_engagements_org_id_created_at_id",
            "org_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    org_id: Mapped[uuid.UUID] = _tenant()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[EngagementStatus] = mapped_column(
        IntEnumColumn(EngagementStatus), nullable=False, server_default=text("1")
    )
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposals.id"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        Index("idx_projects_engagement_id", "engagement_id"),
        Index("idx_projects_org_id", "org_id"),
        Index("idx_projects_status", "status"),
        Index("idx_projects_phase", "phase"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    engagement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), nullable=False
    )
    org_id: Mapped[uuid.UUID] = _tenant()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ProjectStatus] = mapped_column(
        IntEnumColumn(ProjectStatus), nullable=False, server_default=text("1")
    )
    phase: Mapped[ProjectPhase] = mapped_column(
        IntEnumColumn(ProjectPhase), nullable=False, server_default=text("1")
    )
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("services.id"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("idx_conversations_engagement_id", "engagement_id"),
        Index("idx_conversations_org_id", "org_id"),
        Index("idx_conversations_status", "status"),
        Index("idx_conversations_last_message_at", text("last_message_at DESC")),
        Index("idx_conversations_last_public_message_at", text("last_public_message_at DESC")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    engagement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), nullable=False
    )
    org_id: Mapped[uuid.UUID] = _tenant()
    subject: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[ConversationStatus] = mapped_column(
        IntEnumColumn(ConversationStatus), nullable=False, server_default=text("1")
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Addition to the design (domain rules §3): newest non-internal message, for CLIENT viewers.
    last_public_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("idx_conversation_messages_conversation_id", "conversation_id"),
        Index("idx_conversation_messages_org_id", "org_id"),
        Index("idx_conversation_messages_created_at", "created_at"),
        Index(
            "idx_conversation_messages_conversation_id_created_at_id",
            "conversation_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    org_id: Mapped[uuid.UUID] = _tenant()
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONB, server_default=text("'[]'")
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageEventRow(Base):
    """The live feed's outbox (db/outbox.py): one row per message change, committed with it."""

    __tablename__ = "message_events"
    __table_args__ = (
        Index("idx_message_events_conversation_id_position", "conversation_id", "position"),
    )

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = _now()


class MessageEventHorizon(Base):
    """One row: the highest outbox position retention has pruned."""

    __tablename__ = "message_event_horizon"
    __table_args__ = (CheckConstraint("id = 1", name="message_event_horizon_single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    pruned_through: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
    markers_from: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    """The horizon when per-conversation markers (`MessageEventPruned`) began."""


class MessageEventPruned(Base):
    """Per conversation: the highest outbox positions retention pruned, of all its events
    and of its public ones (no foreign key: it outlives its conversation, as events do)."""

    __tablename__ = "message_event_pruned"

    conversation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    pruned_through: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
    public_pruned_through: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )


class MessageEventCursorKey(Base):
    """One row: the key event cursors are enciphered with (resolvers/event_cursor.py)."""

    __tablename__ = "message_event_cursor_key"
    __table_args__ = (
        CheckConstraint("id = 1", name="message_event_cursor_key_single_row"),
        CheckConstraint("length(key) = 32", name="message_event_cursor_key_length"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


TENANT_TABLES: tuple[str, ...] = tuple(
    table.name for table in Base.metadata.sorted_tables if "org_id" in table.c
)
