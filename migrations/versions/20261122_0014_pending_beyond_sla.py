"""Payments pending longer than the service level allows.

- `service_levels`: how long a payment may stay `pending` (`PENDING_SLA_MINUTES`, written by `payments setup`),
  kept in the database so that Metabase, the built-in dashboard and the ingestion service's
  `payments_pending_beyond_sla` all count against the same limit.
- `ix_transactions_pending`: the pending payments by date, a partial index as small as what is pending. It gives
  the oldest pending payment at once, and the payments of one day that are pending.
- `pending_beyond_sla`, a view: per currency, how many payments are pending past the limit and since when the
  oldest waits. The days wholly before the limit come from `daily_totals`; only the day the limit falls on is read
  from the index, so the count costs the same with ten thousand stuck payments as with ten.
- `ix_transactions_suspicious_arrivals`: the suspicious payments by the time they were written, for the built-in
  dashboard's live alert ("3 suspicious payments since this page opened").

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The totals lag the table by a refresh (a few seconds): a payment settled just now on an earlier day may still
# count until the next refresh.
PENDING_BEYOND_SLA = """
CREATE VIEW pending_beyond_sla AS
WITH sla AS (
    SELECT minutes, now() - make_interval(mins => minutes) AS cutoff FROM service_levels WHERE name = 'pending'
), counted AS (
    SELECT d.currency_code, d.transactions AS payments
    FROM daily_totals d, sla
    WHERE d.status = 'pending' AND d.day < (sla.cutoff AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT t.currency_code, 1
    FROM transactions t, sla
    WHERE t.status = 'pending'
      AND t.transaction_date >= date_trunc('day', sla.cutoff AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      AND t.transaction_date < sla.cutoff
)
SELECT c.currency_code, sum(c.payments)::bigint AS payments,
       (SELECT min(t.transaction_date) FROM transactions t
        WHERE t.status = 'pending' AND t.currency_code = c.currency_code) AS oldest,
       (SELECT minutes FROM sla) AS sla_minutes
FROM counted c
GROUP BY c.currency_code
HAVING sum(c.payments) > 0
"""


def upgrade() -> None:
    op.create_table(
        "service_levels",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_service_levels_minutes_positive")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_levels")),
    )
    op.execute("INSERT INTO service_levels (name, minutes) VALUES ('pending', 15)")
    # CONCURRENTLY would not block writers, but cannot run inside Alembic's transaction; on a large table, build
    # the index by hand with CREATE INDEX CONCURRENTLY under this name first, and this migration skips it.
    op.create_index(op.f("ix_transactions_pending"), "transactions", ["transaction_date"],
                    postgresql_include=["currency_code"], postgresql_where=sa.text("status = 'pending'"),
                    if_not_exists=True)
    op.execute(PENDING_BEYOND_SLA)
    # The suspicious payments by arrival, for the dashboard's live alert: a CSV import brings payments of any date.
    op.create_index(op.f("ix_transactions_suspicious_arrivals"), "transactions", ["created_at"],
                    postgresql_where=sa.text("is_suspicious"), if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_suspicious_arrivals"), table_name="transactions")
    op.execute("DROP VIEW pending_beyond_sla")
    op.drop_index(op.f("ix_transactions_pending"), table_name="transactions")
    op.drop_table("service_levels")
