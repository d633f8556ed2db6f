"""What retention pruned, per conversation; the live feed's position readable by requests.

- `message_event_pruned`: per conversation, the highest position pruned, of all its events
  and of its public ones (a CLIENT is shown those only). A resume cursor is refused as
  expired only when events of its conversation that its viewer would be shown were pruned
  after it: with the global horizon alone, the cursor of a conversation idle for the
  retention period expired as soon as any other conversation's events were pruned.
- `message_event_horizon.markers_from`: the horizon when those markers started; a cursor
  below it is refused as before (what was pruned earlier is not known per conversation).
- The application role reads both: a thread read in one snapshot states the live feed's
  position as of that snapshot (`Conversation.messageEventsCursor`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engagement_api.db.tenancy import APP_ROLE, ORG_SETTING, OUTBOX_ROLE, current_uuid_setting

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = current_uuid_setting(ORG_SETTING)


def upgrade() -> None:
    op.create_table(
        "message_event_pruned",
        sa.Column("conversation_id", sa.UUID(), primary_key=True),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("public_pruned_through", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("conversation_id", name="message_event_pruned_pkey"),
    )
    op.add_column(
        "message_event_horizon",
        sa.Column("markers_from", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE message_event_horizon SET markers_from = pruned_through")
    op.execute("ALTER TABLE message_event_pruned ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE message_event_pruned FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON message_event_pruned TO {APP_ROLE} "
        f"USING (org_id = {ORG})"
    )
    op.execute(
        f"CREATE POLICY outbox_reader_role ON message_event_pruned TO {OUTBOX_ROLE} "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(f"GRANT SELECT ON message_event_pruned TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON message_event_pruned TO {OUTBOX_ROLE}")
    op.execute(f"GRANT SELECT ON message_event_horizon TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON message_event_horizon FROM {APP_ROLE}")
    op.drop_column("message_event_horizon", "markers_from")
    op.drop_table("message_event_pruned")
