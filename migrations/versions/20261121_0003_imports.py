"""Imports of CSV files: what was uploaded, archived and published, and the rows the person was shown.

The two partial indexes serve the importer"s status page (an import"s rows and refusals); rows not from an
import cost nothing in them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("s3_key", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_unique", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_suspicious", sa.Integer(), nullable=False),
        sa.Column("rows_malformed", sa.Integer(), nullable=False),
        sa.Column("rows_published", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('publishing', 'published', 'partially_published')",
                           name=op.f("ck_imports_status_known")),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_sha256"), "imports", ["sha256"], unique=False)
    op.create_table(
        "import_flags",
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("kind IN ('duplicate', 'suspicious', 'malformed')", name=op.f("ck_import_flags_kind_known")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.import_id"], name=op.f("fk_import_flags_import_id_imports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", "kind", "line_number", name=op.f("pk_import_flags")),
    )
    op.create_index(
        "ix_rejected_events_import_id",
        "rejected_events",
        ["import_id"],
        unique=False,
        postgresql_where=sa.text("import_id IS NOT NULL"),
    )
    op.create_index(
        "ix_transactions_import_id",
        "transactions",
        ["import_id"],
        unique=False,
        postgresql_where=sa.text("import_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_transactions_import_id", table_name="transactions", postgresql_where=sa.text("import_id IS NOT NULL")
    )
    op.drop_index(
        "ix_rejected_events_import_id", table_name="rejected_events", postgresql_where=sa.text("import_id IS NOT NULL")
    )
    op.drop_table("import_flags")
    op.drop_index(op.f("ix_imports_sha256"), table_name="imports")
    op.drop_table("imports")
