"""Import rows whose `is_suspicious` the platform overruled, kept where a person can read them.

The ingestion service decides whether a payment is suspicious from its amount and SUSPICIOUS_AMOUNT_THRESHOLD, for
both topics. An import row that said otherwise (a producer with another threshold, a row typed by hand) is stored
with the platform's flag; the message is recorded here with what it said, once per message.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overruled_flags",
        sa.Column("overruled_flag_id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("said_suspicious", sa.Boolean(), nullable=False),
        sa.Column("is_suspicious", sa.Boolean(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("message_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.Column("import_line", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("overruled_flag_id", name=op.f("pk_overruled_flags")),
        # As for refusals: the timestamp is in the key because a broker that keeps its log in memory reuses offsets.
        sa.UniqueConstraint("topic", "partition", "offset", "message_timestamp", name="uq_overruled_flags_message",
                            postgresql_nulls_not_distinct=True),
    )


def downgrade() -> None:
    op.drop_table("overruled_flags")
