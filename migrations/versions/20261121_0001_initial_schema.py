"""Initial schema: currencies, users, transactions and rejected events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# modified_at moves when a row really changes; an update that changes nothing (the same message delivered
# twice) leaves it alone, and created_at can never be rewritten by an upsert.
TOUCH_MODIFIED_AT = """
CREATE FUNCTION transactions_touch_modified_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.modified_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_touch_modified_at
    BEFORE UPDATE ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_touch_modified_at();
"""


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("numeric_code", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("alpha_code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("minor_units", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("alpha_code ~ '^[A-Z]{3}$'", name=op.f("ck_currencies_alpha_code_format")),
        sa.CheckConstraint("numeric_code BETWEEN 1 AND 999", name=op.f("ck_currencies_numeric_code_range")),
        sa.PrimaryKeyConstraint("numeric_code", name=op.f("pk_currencies")),
        sa.UniqueConstraint("alpha_code", name=op.f("uq_currencies_alpha_code")),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "transactions",
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("sender_id", sa.UUID(), nullable=False),
        sa.Column("receiver_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency_code", sa.SmallInteger(), nullable=False),
        sa.Column("transaction_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("is_suspicious", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.Column("import_line", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(source = 'csv_import') = (import_id IS NOT NULL AND import_line IS NOT NULL)",
            name=op.f("ck_transactions_import_provenance"),
        ),
        sa.CheckConstraint(
            "source IN ('generator', 'csv_import', 'manual')", name=op.f("ck_transactions_source_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'completed', 'failed')", name=op.f("ck_transactions_status_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transactions_amount_positive")),
        sa.CheckConstraint("sender_id <> receiver_id", name=op.f("ck_transactions_sender_not_receiver")),
        sa.ForeignKeyConstraint(
            ["currency_code"], ["currencies.numeric_code"], name=op.f("fk_transactions_currency_code_currencies")
        ),
        sa.ForeignKeyConstraint(["receiver_id"], ["users.user_id"], name=op.f("fk_transactions_receiver_id_users")),
        sa.ForeignKeyConstraint(["sender_id"], ["users.user_id"], name=op.f("fk_transactions_sender_id_users")),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_transactions")),
    )
    op.execute(TOUCH_MODIFIED_AT)
    op.create_table(
        "rejected_events",
        sa.Column("rejected_event_id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("message_key", sa.LargeBinary(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=True),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.Column("import_line", sa.Integer(), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("rejected_event_id", name=op.f("pk_rejected_events")),
    )


def downgrade() -> None:
    op.drop_table("rejected_events")
    op.drop_table("transactions")
    op.execute("DROP FUNCTION transactions_touch_modified_at()")
    op.drop_table("users")
    op.drop_table("currencies")
