"""An index on transactions.transaction_date.

The refresh of the dashboards' totals (migration 0008) reads each changed day's rows by date; without it,
every refresh would scan the whole table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # CONCURRENTLY would not block writers, but cannot run inside Alembic's transaction; on a large table, build
    # the index by hand with CREATE INDEX CONCURRENTLY under this name first, and this migration skips it.
    op.create_index(op.f("ix_transactions_transaction_date"), "transactions", ["transaction_date"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_transaction_date"), table_name="transactions")
