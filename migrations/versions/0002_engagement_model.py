"""The approved engagement model (engagement-model.md, sections 1, 2 and 5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[object]:
    return sa.Column("id", UUID(), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _org() -> sa.Column[object]:
    return sa.Column("org_id", UUID(), sa.ForeignKey("organizations.id"), nullable=False)


def _status() -> sa.Column[object]:
    return sa.Column("status", sa.Integer(), nullable=False, server_default=sa.text("1"))


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()"))
        for name in ("created_at", "updated_at")
    ]


def _engagement() -> sa.Column[object]:
    return sa.Column(
        "engagement_id",
        UUID(),
        sa.ForeignKey("engagements.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "engagements",
        _id(),
        _org(),
        sa.Column("client_id", UUID(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(255)),
        _status(),
        sa.Column("proposal_id", UUID(), sa.ForeignKey("proposals.id")),
        *_timestamps(),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("idx_engagements_org_id", "engagements", ["org_id"])
    op.create_index("idx_engagements_client_id", "engagements", ["client_id"])
    op.create_index("idx_engagements_status", "engagements", ["status"])

    op.create_table(
        "projects",
        _id(),
        _engagement(),
        _org(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        _status(),
        sa.Column("phase", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("service_id", UUID(), sa.ForeignKey("services.id")),
        *_timestamps(),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.create_index("idx_projects_engagement_id", "projects", ["engagement_id"])
    op.create_index("idx_projects_org_id", "projects", ["org_id"])
    op.create_index("idx_projects_status", "projects", ["status"])
    op.create_index("idx_projects_phase", "projects", ["phase"])

    op.create_table(
        "conversations",
        _id(),
        _engagement(),
        _org(),
        sa.Column("subject", sa.String(255)),
        _status(),
        *_timestamps(),
        sa.Column("last_message_at", sa.DateTime(timezone=True)),
    )
    op.create_index("idx_conversations_engagement_id", "conversations", ["engagement_id"])
    op.create_index("idx_conversations_org_id", "conversations", ["org_id"])
    op.create_index("idx_conversations_status", "conversations", ["status"])
    op.create_index(
        "idx_conversations_last_message_at", "conversations", [sa.text("last_message_at DESC")]
    )

    op.create_table(
        "conversation_messages",
        _id(),
        sa.Column(
            "conversation_id",
            UUID(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _org(),
        sa.Column("sender_id", UUID(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("attachments", JSONB(), server_default=sa.text("'[]'")),
        *_timestamps(),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "idx_conversation_messages_conversation_id", "conversation_messages", ["conversation_id"]
    )
    op.create_index("idx_conversation_messages_org_id", "conversation_messages", ["org_id"])
    op.create_index("idx_conversation_messages_created_at", "conversation_messages", ["created_at"])

    # Section 2, with section 5's SET NULL: orders are financial records and are kept.
    op.add_column(
        "orders",
        sa.Column(
            "engagement_id",
            UUID(),
            sa.ForeignKey("engagements.id", ondelete="SET NULL", name="orders_engagement_id_fkey"),
        ),
    )
    op.create_index("idx_orders_engagement_id", "orders", ["engagement_id"])
    op.add_column(
        "proposals",
        sa.Column(
            "converted_engagement_id",
            UUID(),
            sa.ForeignKey("engagements.id", name="proposals_converted_engagement_id_fkey"),
        ),
    )


def downgrade() -> None:
    op.drop_column("proposals", "converted_engagement_id")
    op.drop_index("idx_orders_engagement_id", table_name="orders")
    op.drop_column("orders", "engagement_id")
    for table in ("conversation_messages", "conversations", "projects", "engagements"):
        op.drop_table(table)
