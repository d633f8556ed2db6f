"""The live feed's transactional outbox: one row per message change, written in the
writing transaction, with a monotonically increasing position.

- `message_events`: position (bigserial), conversation, organization, kind, message,
  internal flag, creation time. No foreign keys: the events of a cascade delete outlive
  the rows they describe, for as long as retention keeps them.
- `message_event_horizon`: one row, the highest position ever pruned; a resume cursor at
  or below it may have lost events and is refused.
- Row-level security, forced as on every tenant table: request transactions (the
  restricted role) insert and read back their own tenant's rows; the process's outbox
  reader (the migrating owner role) reads and prunes every tenant's.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING, current_uuid_setting

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = current_uuid_setting(ORG_SETTING)


def upgrade() -> None:
    op.create_table(
        "message_events",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("position", name="message_events_pkey"),
    )
    op.create_index(
        "idx_message_events_conversation_id_position",
        "message_events",
        ["conversation_id", "position"],
    )
    op.create_table(
        "message_event_horizon",
        sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("id = 1", name="message_event_horizon_single_row"),
        sa.PrimaryKeyConstraint("id", name="message_event_horizon_pkey"),
    )
    op.execute("INSERT INTO message_event_horizon (id, pruned_through) VALUES (1, 0)")
    op.execute(f"GRANT SELECT, INSERT ON message_events TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE message_events_position_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE message_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE message_events FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON message_events TO {APP_ROLE} "
        f"USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})"
    )
    op.execute(
        "DO $$ BEGIN EXECUTE format("
        "'CREATE POLICY outbox_reader ON message_events TO %I USING (true)', current_user);"
        " END $$"
    )


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON message_events FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON SEQUENCE message_events_position_seq FROM {APP_ROLE}")
    op.drop_table("message_event_horizon")
    op.drop_index("idx_message_events_conversation_id_position", table_name="message_events")
    op.drop_table("message_events")
