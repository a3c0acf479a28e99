"""The web app's sessions, kept on the server: sign-out ends one for good.

A signed cookie alone could not be taken back: after sign-out, a copy of the old cookie still opened the app. Now
the cookie carries a random token, and `web_sessions` holds its SHA-256 (a reader of the table cannot sign in
with it): the session is open while `ended_at` is empty. Sign-out ends it; signing out everywhere, a new
password and a disabled account end every session of the account.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], name="fk_web_sessions_account_id_accounts",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_open", "web_sessions", ["account_id"],
                    postgresql_where=sa.text("ended_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_web_sessions_open", table_name="web_sessions")
    op.drop_table("web_sessions")
