"""A partial index of the suspicious payments, by date.

The live table of the latest suspicious payments reads the newest twenty, every few seconds per open page.
Only suspicious rows are in it (a few percent), so it is small and cheap to keep; it holds every column the
table shows and filters on, so that a filter is checked in the index and only the rows shown are returned.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # CONCURRENTLY would not block writers, but cannot run inside Alembic's transaction; on a large table, build
    # the index by hand with CREATE INDEX CONCURRENTLY under this name first, and this migration skips it.
    op.create_index(op.f("ix_transactions_suspicious"), "transactions", ["transaction_date", "transaction_id"],
                    postgresql_include=["sender_id", "receiver_id", "amount", "currency_code", "status", "source"],
                    postgresql_where=sa.text("is_suspicious"), if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_suspicious"), table_name="transactions")
