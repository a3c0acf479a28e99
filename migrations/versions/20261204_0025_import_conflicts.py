"""Rows of one file that give the same transaction_id to different payments are shown as conflicts.

Before, both were published under the one id and the ingestion service kept one of them: the page said "2 of 4
saved" and the other row was only a metric. Now the first is published and flagged `conflict` with the lines
that reuse its id; each of those is flagged `conflict` with the first line's number, and not published.
`imports.rows_conflict` counts them, so that a file's rows still add up.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "kind IN ('duplicate', 'suspicious', 'malformed')"
AFTER = "kind IN ('duplicate', 'suspicious', 'malformed', 'conflict')"


def upgrade() -> None:
    op.add_column("imports", sa.Column("rows_conflict", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.drop_constraint(op.f("ck_import_flags_kind_known"), "import_flags", type_="check")
    op.create_check_constraint(op.f("ck_import_flags_kind_known"), "import_flags", AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM import_flags WHERE kind = 'conflict'")
    op.drop_constraint(op.f("ck_import_flags_kind_known"), "import_flags", type_="check")
    op.create_check_constraint(op.f("ck_import_flags_kind_known"), "import_flags", BEFORE)
    op.drop_column("imports", "rows_conflict")
