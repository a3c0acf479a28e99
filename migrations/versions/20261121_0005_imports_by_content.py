"""Imports recognised by their content, every line of a file accounted for, and progress counted per import.

- `imports.content_digest`: the file's rows as a set of transaction ids, whatever the bytes (line ends, quoting,
  separator, column order). Indexed: an upload looks it up to ask "imported before?".
- `imports.lines_*` and `rows_already_imported`: the counts that add up to the file's physical lines, and the rows
  left out when the person chose to import only the new ones.
- `import_flags.repeats`: a repeated row is one flag with the lines that repeat it (a million identical rows are
  one row of four megabytes, not a million rows); `last_line` is where a row spanning lines ends.
- `import_progress`: the rows of each import the ingestion service saved, per partition, written in the same
  transaction as the rows. Counting by `transactions.import_id` made an earlier import show 0 rows once a later
  import of the same content took its rows over. `last_offset` makes a redelivered batch count once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("lines_total", "lines_blank", "lines_in_fields", "rows_already_imported")


def upgrade() -> None:
    op.add_column("imports", sa.Column("content_digest", sa.String(length=48), nullable=True))
    op.create_index(op.f("ix_imports_content_digest"), "imports", ["content_digest"], unique=False)
    for name in _COUNTS:
        op.add_column("imports", sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("import_flags", sa.Column("last_line", sa.Integer(), nullable=True))
    op.add_column("import_flags", sa.Column("repeats", postgresql.ARRAY(sa.Integer()), nullable=True))
    # One flag per repeated row, holding the lines that repeat it (before: one flag per repeat).
    op.execute("""
        INSERT INTO import_flags (import_id, kind, line_number, fields, repeats)
        SELECT import_id, 'duplicate', duplicate_of, (array_agg(fields ORDER BY line_number))[1],
               array_agg(line_number ORDER BY line_number)
        FROM import_flags WHERE kind = 'duplicate' GROUP BY import_id, duplicate_of
    """)
    op.execute("DELETE FROM import_flags WHERE kind = 'duplicate' AND repeats IS NULL")
    op.drop_column("import_flags", "duplicate_of")
    op.create_table(
        "import_progress",
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("last_offset", sa.BigInteger(), nullable=False),
        sa.Column("rows_saved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "topic", "partition", name=op.f("pk_import_progress")),
    )
    # What is in the database now, credited to the import that wrote it last (partition -1: before this table).
    op.execute("""
        INSERT INTO import_progress (import_id, topic, partition, last_offset, rows_saved)
        SELECT import_id, '', -1, -1, count(*) FROM transactions WHERE import_id IS NOT NULL GROUP BY import_id
    """)


def downgrade() -> None:
    op.drop_table("import_progress")
    op.add_column("import_flags", sa.Column("duplicate_of", sa.Integer(), nullable=True))
    op.execute("""
        INSERT INTO import_flags (import_id, kind, line_number, duplicate_of, fields)
        SELECT import_id, 'duplicate', repeat, line_number, fields
        FROM import_flags, unnest(repeats) AS repeat WHERE kind = 'duplicate'
        ON CONFLICT DO NOTHING
    """)
    op.execute("DELETE FROM import_flags WHERE kind = 'duplicate' AND repeats IS NOT NULL")
    op.drop_column("import_flags", "repeats")
    op.drop_column("import_flags", "last_line")
    for name in reversed(_COUNTS):
        op.drop_column("imports", name)
    op.drop_index(op.f("ix_imports_content_digest"), table_name="imports")
    op.drop_column("imports", "content_digest")
