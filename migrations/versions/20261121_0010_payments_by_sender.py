"""A user's payments sent, by date, with what the dashboards add up.

A dashboard filtered on a user reads that user's payments only: sender_id then date, and the columns the
questions need in the index itself, so that an index-only scan answers without reading the table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # CONCURRENTLY would not block writers, but cannot run inside Alembic's transaction; on a large table, build
    # the index by hand with CREATE INDEX CONCURRENTLY under this name first, and this migration skips it.
    op.create_index(op.f("ix_transactions_sender"), "transactions", ["sender_id", "transaction_date"],
                    postgresql_include=["receiver_id", "currency_code", "status", "amount", "is_suspicious"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_sender"), table_name="transactions")
