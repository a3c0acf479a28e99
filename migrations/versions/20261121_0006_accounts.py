"""Accounts of the web app (sign-in), and who uploaded each import.

Passwords are stored as argon2id hashes only. `role` is `viewer` (the dashboard) or `importer` (also uploads and
the imports' pages). A disabled account cannot sign in, and its open sessions end at their next request.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'importer')", name=op.f("ck_accounts_role_known")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.add_column("imports", sa.Column("uploaded_by", sa.String(length=150), nullable=True))


def downgrade() -> None:
    op.drop_column("imports", "uploaded_by")
    op.drop_table("accounts")
