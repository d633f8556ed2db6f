"""The tables that predate the engagement design (domain rules, section 1).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[object]:
    return sa.Column("id", UUID(), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
    )


def _org() -> sa.Column[object]:
    return sa.Column("org_id", UUID(), sa.ForeignKey("organizations.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "organizations",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _timestamp("created_at"),
    )
    op.create_table(
        "users",
        _id(),
        _org(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("org_id", "email", name="users_org_id_email_key"),
    )
    op.create_table(
        "services",
        _id(),
        _org(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        _timestamp("created_at"),
    )
    op.create_table(
        "proposals",
        _id(),
        _org(),
        sa.Column("client_id", UUID(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("service_id", UUID(), sa.ForeignKey("services.id")),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False, server_default=sa.text("1")),
        sa.Column("signed_at", sa.DateTime(timezone=True)),
        sa.Column("converted_order_id", UUID()),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_table(
        "orders",
        _id(),
        _org(),
        sa.Column("client_id", UUID(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("proposal_id", UUID(), sa.ForeignKey("proposals.id")),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False, server_default=sa.text("1")),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_foreign_key(
        "proposals_converted_order_id_fkey", "proposals", "orders", ["converted_order_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("proposals_converted_order_id_fkey", "proposals", type_="foreignkey")
    for table in ("orders", "proposals", "services", "users", "organizations"):
        op.drop_table(table)
