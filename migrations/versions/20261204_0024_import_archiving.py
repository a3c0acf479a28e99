"""An import is recorded before its file goes to S3, with the status `archiving`.

The file used to be archived inside the database transaction that recorded the import: while S3 hung, the
transaction stayed open, holding its locks and a connection, and other uploads of the same content waited
behind it. Now the import is recorded and committed first, the file archived with no transaction open, and the
record then moves on to `publishing` (or is removed when the archive failed, nothing having been published).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('publishing', 'published', 'partially_published')"
AFTER = "status IN ('archiving', 'publishing', 'published', 'partially_published')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_imports_status_known"), "imports", type_="check")
    op.create_check_constraint(op.f("ck_imports_status_known"), "imports", AFTER)


def downgrade() -> None:
    # An import stopped while archiving published nothing: it goes, as the new code would have removed it.
    op.execute("DELETE FROM imports WHERE status = 'archiving'")
    op.drop_constraint(op.f("ck_imports_status_known"), "imports", type_="check")
    op.create_check_constraint(op.f("ck_imports_status_known"), "imports", BEFORE)
