"""Versions of a payment that were not applied, kept where a person can read them.

A version older than what is stored (a replay, a late retry) or a final status contradicting another (`completed`
then `failed`) is not an error of the sender's format, so it is not a refusal: it is recorded here with the stored
and the incoming status and time, and where the message was read. One row per message: a redelivery adds nothing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "superseded_events",
        sa.Column("superseded_event_id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("stored_status", sa.Text(), nullable=False),
        sa.Column("stored_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("incoming_status", sa.Text(), nullable=False),
        sa.Column("incoming_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("message_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.Column("import_line", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("reason IN ('older', 'conflict')", name=op.f("ck_superseded_events_reason_known")),
        sa.PrimaryKeyConstraint("superseded_event_id", name=op.f("pk_superseded_events")),
        # As for refusals: the timestamp is in the key because a broker that keeps its log in memory reuses offsets.
        sa.UniqueConstraint("topic", "partition", "offset", "message_timestamp", name="uq_superseded_events_message",
                            postgresql_nulls_not_distinct=True),
    )
    # An import's page counts its rows older than what is stored.
    op.create_index(op.f("ix_superseded_events_import_id"), "superseded_events", ["import_id"],
                    postgresql_where=sa.text("import_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index(op.f("ix_superseded_events_import_id"), table_name="superseded_events")
    op.drop_table("superseded_events")
