"""Each user's totals for all time and per week, so that the top senders and receivers read fewer rows.

- Without dates, the top senders added up every month of `user_monthly_totals`: 135,000 rows at 10 million
  payments (53 ms). `user_totals` holds one row per user, currency and status.
- With dates that cut months, they added up every day before the first whole month and after the last one: up to
  two months of days, 150,000 rows (56 ms). `user_weekly_totals` (weeks from Monday) lets those edges read whole
  weeks and at most six days on each side of them.

Both are kept by `refresh_payment_totals()` from the same log of changes as the other totals (migration 0013).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_END = "    RETURN changed;\nEND $$\n"


def _migration_0013():
    """Migration 0013's module, as Alembic loaded it: its SQL is what this one builds on or puts back."""
    return op.get_context().script.get_revision("0013").module


def _user_totals(name: str, *period: sa.Column) -> None:
    op.create_table(
        name,
        *period,
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("currency_code", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("sent_volume", sa.Numeric(18, 2), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("received_volume", sa.Numeric(18, 2), nullable=False),
        sa.Column("suspicious", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*(c.name for c in period), "user_id", "currency_code", "status",
                                name=op.f(f"pk_{name}")),
    )


def refresh() -> str:
    """The refresh of migration 0013 that also keeps these two tables (migration 0019 puts it back on its way down)."""
    before = _migration_0013()
    # Added to the refresh of migration 0013, after the monthly totals.
    added = (before.fold_user_totals("user_weekly_totals", "week", "date_trunc('week', {day})::date")
             + before.fold_user_totals("user_totals"))
    assert before.REFRESH.endswith(_END)
    return before.REFRESH[: -len(_END)] + added + _END


def note() -> str:
    """The trigger function of migration 0013, whose TRUNCATE of transactions empties these tables too."""
    return _migration_0013().NOTE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
        "user_monthly_totals;", "user_monthly_totals, user_weekly_totals, user_totals;")


def upgrade() -> None:
    _user_totals("user_totals")
    _user_totals("user_weekly_totals", sa.Column("week", sa.Date(), nullable=False))  # its Monday
    op.execute(refresh())
    op.execute("""
        INSERT INTO user_totals (user_id, currency_code, status, sent, sent_volume, received, received_volume,
                                 suspicious)
        SELECT user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume),
               sum(suspicious)
        FROM user_monthly_totals GROUP BY user_id, currency_code, status""")
    op.execute("""
        INSERT INTO user_weekly_totals (week, user_id, currency_code, status, sent, sent_volume, received,
                                        received_volume, suspicious)
        SELECT date_trunc('week', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume),
               sum(received), sum(received_volume), sum(suspicious)
        FROM user_daily_totals GROUP BY 1, user_id, currency_code, status""")
    op.execute(note())


def downgrade() -> None:
    before = _migration_0013()
    op.execute(before.REFRESH)
    op.execute(before.NOTE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.drop_table("user_weekly_totals")
    op.drop_table("user_totals")
