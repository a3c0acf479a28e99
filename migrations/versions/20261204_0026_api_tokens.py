"""Tokens of the read and import API (`/api/v1`): other systems' door to the data.

A token is `pay_<public id>_<secret>`. The table holds the public id, by which a request's token is found, and the
SHA-256 of the secret, compared in constant time: a reader of the table cannot call the API with what it finds.
A payment's history (`GET /payments/{id}`) says where its stored version came from: `transactions` keeps the
topic, partition and offset of the message it was written from (NULL for the rows written before), as
`rejected_events` and `superseded_events` already do for theirs; and it reads the versions set aside and refused
for one transaction: both tables get an index on it. A token is named (one open token per name and owner; the command line's tokens have none), has scopes (`read`, `import`), may expire, and is revoked rather than
deleted, so that what it did stays explained. A token made on the web page belongs to the account that made it.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scopes <@ ARRAY['read', 'import']::text[] AND cardinality(scopes) > 0",
                           name="ck_api_tokens_scopes_known"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], name="fk_api_tokens_account_id_accounts",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        sa.UniqueConstraint("public_id", name="uq_api_tokens_public_id"),
    )
    op.create_index("ix_api_tokens_open_name", "api_tokens", ["account_id", "name"], unique=True,
                    postgresql_where=sa.text("revoked_at IS NULL"), postgresql_nulls_not_distinct=True)
    op.add_column("transactions", sa.Column("topic", sa.Text(), nullable=True))
    op.add_column("transactions", sa.Column("partition", sa.Integer(), nullable=True))
    op.add_column("transactions", sa.Column("offset", sa.BigInteger(), nullable=True))
    op.create_index("ix_superseded_events_transaction_id", "superseded_events", ["transaction_id"])
    op.create_index("ix_rejected_events_transaction_id", "rejected_events", ["transaction_id"],
                    postgresql_where=sa.text("transaction_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_rejected_events_transaction_id", table_name="rejected_events")
    op.drop_index("ix_superseded_events_transaction_id", table_name="superseded_events")
    op.drop_column("transactions", "offset")
    op.drop_column("transactions", "partition")
    op.drop_column("transactions", "topic")
    op.drop_index("ix_api_tokens_open_name", table_name="api_tokens")
    op.drop_table("api_tokens")
