"""The index of every payment by date goes: nothing reads it any more.

Migration 0007 added it for the totals' refresh, which read each changed day's payments; since migration 0013
the refresh reads only the rows that changed, and every question reads totals or a partial index (the suspicious
payments, 0009; the pending ones, 0014). Keeping it cost each write one more B-tree insert.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_transactions_transaction_date"), table_name="transactions", if_exists=True)


def downgrade() -> None:
    op.create_index(op.f("ix_transactions_transaction_date"), "transactions", ["transaction_date"],
                    if_not_exists=True)
