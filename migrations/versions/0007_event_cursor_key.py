"""The key event cursors are enciphered with: `message_event_cursor_key`.

A `messageEvents` cursor names an outbox position. Positions come from one sequence for
every conversation and tenant, internal notes included, so a cursor in the clear told a
CLIENT how many events it was not shown between two it was (internal notes of its thread,
other tenants' traffic). Cursors are now the position enciphered with this key (AES,
`resolvers/event_cursor.py`): one row, 32 random bytes from PostgreSQL's strong random
source, made here once, so that every server of the deployment mints and reads the same
cursors across restarts. Only the outbox reader's role may read it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engagement_api.db.tenancy import OUTBOX_ROLE

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_event_cursor_key",
        sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name="message_event_cursor_key_single_row"),
        sa.CheckConstraint("length(key) = 32", name="message_event_cursor_key_length"),
        sa.PrimaryKeyConstraint("id", name="message_event_cursor_key_pkey"),
    )
    op.execute(
        "INSERT INTO message_event_cursor_key (id, key)"
        " SELECT 1, sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))"
    )
    op.execute("REVOKE ALL ON message_event_cursor_key FROM PUBLIC")
    op.execute(f"GRANT SELECT ON message_event_cursor_key TO {OUTBOX_ROLE}")


def downgrade() -> None:
    op.drop_table("message_event_cursor_key")
