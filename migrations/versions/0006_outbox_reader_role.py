"""The outbox reader's own role: `engagement_outbox`.

Each process reads committed events of every tenant, and prunes them, on a few connections
of its own. Those connections used to run as the migrating owner, whom the `outbox_reader`
policy admits; a server on a separate login (`DATABASE_APP_URL`, a member of
`engagement_app` only) saw no event, since the tenant policy applies to it and it sets no
organization. The reader's connections now assume `engagement_outbox`: every row of
`message_events` to read and delete, the horizon to read and move, nothing else. The login
of the servers is a member of it (deploy/app-login.sql), and so is the owner. The owner's
own `outbox_reader` policy, which nothing reads through any more, goes.

The role is cluster-wide, as `engagement_app`: downgrade revokes this database's grants and
leaves the role.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from engagement_api.db.tenancy import OUTBOX_ROLE, ensure_role_sql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(ensure_role_sql(OUTBOX_ROLE))
    op.execute(f"GRANT USAGE ON SCHEMA public TO {OUTBOX_ROLE}")
    op.execute(f"GRANT SELECT, DELETE ON message_events TO {OUTBOX_ROLE}")
    op.execute(f"GRANT SELECT, UPDATE ON message_event_horizon TO {OUTBOX_ROLE}")
    op.execute(f"CREATE POLICY outbox_reader_role ON message_events TO {OUTBOX_ROLE} USING (true)")
    op.execute("DROP POLICY outbox_reader ON message_events")


def downgrade() -> None:
    op.execute(
        "DO $$ BEGIN EXECUTE format("
        "'CREATE POLICY outbox_reader ON message_events TO %I USING (true)', current_user);"
        " END $$"
    )
    op.execute("DROP POLICY outbox_reader_role ON message_events")
    op.execute(f"REVOKE ALL ON message_event_horizon FROM {OUTBOX_ROLE}")
    op.execute(f"REVOKE ALL ON message_events FROM {OUTBOX_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {OUTBOX_ROLE}")
