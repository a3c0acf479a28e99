"""Totals that do not grow with `transactions`, for the dashboards.

- `daily_totals`: per day, currency and status (about 18 rows a day, whatever the traffic).
- `user_payments`, a view: each payment once as sent by its sender and once as received by its receiver.
- `user_daily_totals` and `user_monthly_totals`: what each user sent and received, per day or month, currency
  and status. A date range reads whole months from the monthly totals and only the days of the months it cuts
  from the daily ones.

Kept up to date from the table itself. Statement-level triggers on `transactions` note the days that any
statement touched (the ingestion service, an import, a manual fix in psql) in `payment_totals_stale`, an
append-only table, so that concurrent writers never wait on each other. `refresh_payment_totals()` recomputes
those days, and their months, from `transactions`; the ingestion service calls it every few seconds. Recomputing
from the table rather than adding deltas means the totals can never drift from it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A payment's day; a constant of this module, formatted into the SQL below (never data).
_DAY = "(transaction_date AT TIME ZONE 'UTC')::date"

REFRESH = """
CREATE FUNCTION refresh_payment_totals() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    days date[];
    months date[];
BEGIN
    -- One refresher at a time; another caller finds the work taken and returns at once.
    IF NOT pg_try_advisory_xact_lock(hashtext('refresh_payment_totals')) THEN
        RETURN 0;
    END IF;
    WITH taken AS (DELETE FROM payment_totals_stale RETURNING day)
    SELECT array_agg(DISTINCT day) INTO days FROM taken;
    IF days IS NULL THEN
        RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT date_trunc('month', d)::date) INTO months FROM unnest(days) AS d;

    CREATE TEMPORARY TABLE IF NOT EXISTS stale_rows (
        day date, sender_id uuid, receiver_id uuid, currency_code integer, status text, amount numeric(12, 2),
        is_suspicious boolean) ON COMMIT DELETE ROWS;
    TRUNCATE stale_rows;  -- a second refresh in the same transaction
    -- Each day's rows, through the index on transaction_date (migration 0007).
    INSERT INTO stale_rows
    SELECT d, t.sender_id, t.receiver_id, t.currency_code, t.status, t.amount, t.is_suspicious
    FROM unnest(days) AS d
    JOIN transactions t ON t.transaction_date >= d::timestamp AT TIME ZONE 'UTC'
                       AND t.transaction_date < (d + 1)::timestamp AT TIME ZONE 'UTC';

    DELETE FROM daily_totals WHERE day = ANY (days);
    INSERT INTO daily_totals (day, currency_code, status, transactions, volume, suspicious)
    SELECT day, currency_code, status, count(*), sum(amount), count(*) FILTER (WHERE is_suspicious)
    FROM stale_rows GROUP BY day, currency_code, status
    ORDER BY day, currency_code, status;

    DELETE FROM user_daily_totals WHERE day = ANY (days);
    INSERT INTO user_daily_totals (day, user_id, currency_code, status, sent, sent_volume, received,
                                   received_volume, suspicious)
    SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume),
           count(*) FILTER (WHERE is_suspicious)
    FROM (SELECT day, sender_id AS user_id, currency_code, status, 1 AS sent, amount AS sent_volume,
                 0 AS received, 0 AS received_volume, is_suspicious FROM stale_rows
          UNION ALL
          SELECT day, receiver_id, currency_code, status, 0, 0, 1, amount, is_suspicious FROM stale_rows) AS sides
    GROUP BY day, user_id, currency_code, status
    -- Written in key order, so that a day's rows sit together on disk: a range of days reads few pages.
    ORDER BY day, user_id, currency_code, status;

    DELETE FROM user_monthly_totals WHERE month = ANY (months);
    INSERT INTO user_monthly_totals (month, user_id, currency_code, status, sent, sent_volume, received,
                                     received_volume, suspicious)
    SELECT date_trunc('month', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume),
           sum(received), sum(received_volume), sum(suspicious)
    FROM user_daily_totals
    WHERE day >= (SELECT min(m) FROM unnest(months) AS m)
      AND date_trunc('month', day)::date = ANY (months)
    GROUP BY 1, user_id, currency_code, status
    ORDER BY 1, user_id, currency_code, status;
    RETURN cardinality(days);
END $$
"""

MARK = f"""
CREATE FUNCTION mark_payment_days_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT day FROM daily_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT {_DAY} FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT {_DAY} FROM old_rows;
    END IF;
    RETURN NULL;
END $$
"""

# A user's payments, each seen from the user's side: one row as sent for the sender, one as received for the
# receiver (never the same user: a payment to oneself is refused). A filter on user_id reads the indexes on
# sender_id and receiver_id (migrations 0010 and 0011).
USER_PAYMENTS = f"""
CREATE VIEW user_payments AS
    SELECT sender_id AS user_id, 'sent' AS direction, receiver_id AS other_id, sender_id, receiver_id,
           transaction_id, transaction_date, {_DAY} AS day, currency_code, status, amount, is_suspicious
    FROM transactions
    UNION ALL
    SELECT receiver_id, 'received', sender_id, sender_id, receiver_id,
           transaction_id, transaction_date, {_DAY}, currency_code, status, amount, is_suspicious
    FROM transactions
"""

TRIGGERS = [
    "CREATE TRIGGER payment_days_inserted AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()",
    "CREATE TRIGGER payment_days_updated AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()",
    "CREATE TRIGGER payment_days_deleted AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()",
    "CREATE TRIGGER payment_days_truncated AFTER TRUNCATE ON transactions "
    "FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()",
]


def _totals(name: str, period: str, *per_user: str) -> None:
    keys = [sa.Column(period, sa.Date(), nullable=False)]
    if per_user:
        keys.append(sa.Column("user_id", sa.UUID(), nullable=False))
    keys += [sa.Column("currency_code", sa.Integer(), nullable=False),
             sa.Column("status", sa.Text(), nullable=False)]
    if per_user:
        counts = [sa.Column("sent", sa.Integer(), nullable=False),
                  sa.Column("sent_volume", sa.Numeric(18, 2), nullable=False),
                  sa.Column("received", sa.Integer(), nullable=False),
                  sa.Column("received_volume", sa.Numeric(18, 2), nullable=False),
                  # The user's payments, sent or received, that are suspicious.
                  sa.Column("suspicious", sa.Integer(), nullable=False)]
    else:
        counts = [sa.Column("transactions", sa.Integer(), nullable=False),
                  sa.Column("volume", sa.Numeric(18, 2), nullable=False),
                  sa.Column("suspicious", sa.Integer(), nullable=False)]
    op.create_table(name, *keys, *counts,
                    sa.PrimaryKeyConstraint(*(c.name for c in keys), name=op.f(f"pk_{name}")))


def upgrade() -> None:
    _totals("daily_totals", "day")
    _totals("user_daily_totals", "day", "user_id")
    _totals("user_monthly_totals", "month", "user_id")
    # A user's totals: the user activity page reads one user's months; a dashboard filtered on a user, their days.
    op.create_index(op.f("ix_user_monthly_totals_user_id"), "user_monthly_totals", ["user_id"])
    op.create_index(op.f("ix_user_daily_totals_user_id"), "user_daily_totals", ["user_id", "day"])
    op.create_table(
        "payment_totals_stale",
        sa.Column("stale_id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("stale_id", name=op.f("pk_payment_totals_stale")),
    )
    op.execute(USER_PAYMENTS)
    op.execute(REFRESH)
    op.execute(MARK)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute(f"INSERT INTO payment_totals_stale (day) SELECT DISTINCT {_DAY} FROM transactions")
    op.execute("SELECT refresh_payment_totals()")


def downgrade() -> None:
    for trigger in ("payment_days_inserted", "payment_days_updated", "payment_days_deleted",
                    "payment_days_truncated"):
        op.execute(f"DROP TRIGGER {trigger} ON transactions")
    op.execute("DROP FUNCTION mark_payment_days_stale(), refresh_payment_totals()")
    op.execute("DROP VIEW user_payments")
    op.drop_table("payment_totals_stale")
    op.drop_index(op.f("ix_user_monthly_totals_user_id"), table_name="user_monthly_totals")
    op.drop_index(op.f("ix_user_daily_totals_user_id"), table_name="user_daily_totals")
    for name in ("user_monthly_totals", "user_daily_totals", "daily_totals"):
        op.drop_table(name)
