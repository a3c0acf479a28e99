"""A user's payments received, by date, with what the dashboards add up.

The other half of a user's payments (see migration 0010).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # CONCURRENTLY would not block writers, but cannot run inside Alembic's transaction; on a large table, build
    # the index by hand with CREATE INDEX CONCURRENTLY under this name first, and this migration skips it.
    op.create_index(op.f("ix_transactions_receiver"), "transactions", ["receiver_id", "transaction_date"],
                    postgresql_include=["sender_id", "currency_code", "status", "amount", "is_suspicious"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_receiver"), table_name="transactions")
