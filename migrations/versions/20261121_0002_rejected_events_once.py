"""Record a refused message once, however often it is delivered.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rejected_events", sa.Column("message_timestamp", sa.DateTime(timezone=True), nullable=True))
    op.create_unique_constraint(
        "uq_rejected_events_message",
        "rejected_events",
        ["topic", "partition", "offset", "message_timestamp"],
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    op.drop_constraint("uq_rejected_events_message", "rejected_events", type_="unique")
    op.drop_column("rejected_events", "message_timestamp")
