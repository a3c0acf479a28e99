"""A version with the same status and time as the stored one but other content is a conflict, and says where.

`superseded_events.differing_fields`: for a `conflict` between versions with the same status and time, the fields
in which the incoming version differed from the stored one (`{amount}`, `{sender_id,receiver_id}`); empty for the
other cases. Before, such a version was taken for the stored one delivered again and left no trace.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("superseded_events", sa.Column("differing_fields", postgresql.ARRAY(sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("superseded_events", "differing_fields")
