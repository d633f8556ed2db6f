"""Additions to the design: a CLIENT's view of recent activity, and keyset-pagination indexes.

- conversations.last_public_message_at: the newest non-internal message's time, so that
  a CLIENT's lastMessageAt and activity order reveal nothing of internal notes
  (domain rules, section 3), indexed like last_message_at.
- (conversation_id, created_at, id) on messages: thread pages by keyset, at any depth.
- (org_id, created_at DESC, id DESC) on engagements: the newest-first list per tenant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("last_public_message_at", sa.DateTime(timezone=True)))
    op.execute(
        """
        UPDATE conversations c SET last_public_message_at = (
          SELECT max(m.created_at) FROM conversation_messages m
          WHERE m.conversation_id = c.id AND NOT m.is_internal AND m.deleted_at IS NULL)
        """
    )
    op.create_index(
        "idx_conversations_last_public_message_at",
        "conversations",
        [sa.text("last_public_message_at DESC")],
    )
    op.create_index(
        "idx_conversation_messages_conversation_id_created_at_id",
        "conversation_messages",
        ["conversation_id", "created_at", "id"],
    )
    op.create_index(
        "idx_engagements_org_id_created_at_id",
        "engagements",
        ["org_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("idx_engagements_org_id_created_at_id", table_name="engagements")
    op.drop_index(
        "idx_conversation_messages_conversation_id_created_at_id",
        table_name="conversation_messages",
    )
    op.drop_index("idx_conversations_last_public_message_at", table_name="conversations")
    op.drop_column("conversations", "last_public_message_at")
