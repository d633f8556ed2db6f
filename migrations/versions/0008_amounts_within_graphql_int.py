"""Amounts the API can serve: `amount_cents` of proposals and orders within GraphQL's Int.

The columns stay BIGINT (the design's), but the contract serves `amountCents: Int!`, a
32-bit integer: a larger amount written by another path (SQL, an import) could not be
served, and as a non-null field in a list it would null the whole list of that viewer's
proposals or orders. The range is checked where the amount is written instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from engagement_api.db.models import AMOUNT_WITHIN_GRAPHQL_INT

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("proposals", "orders")


def upgrade() -> None:
    for table in TABLES:
        op.create_check_constraint(f"{table}_amount_cents_int", table, AMOUNT_WITHIN_GRAPHQL_INT)


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"{table}_amount_cents_int", table, type_="check")
