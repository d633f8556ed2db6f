"""The application role reads the live feed's horizon.

A thread read in one snapshot states the live feed's position as of that snapshot
(`Conversation.messageEventsCursor`): the newest of the conversation's events it holds,
or the horizon (the highest pruned position) when it holds none, so that a subscription
resuming from it is never refused as expired for events that were simply pruned.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from engagement_api.db.tenancy import APP_ROLE

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON message_event_horizon TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON message_event_horizon FROM {APP_ROLE}")
