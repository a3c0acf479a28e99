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


# Migration 0013's refresh, which also keeps these two tables, after the monthly totals.
REFRESH = """
CREATE OR REPLACE FUNCTION refresh_payment_totals() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    -- One refresher at a time; another caller finds the work taken and returns at once.
    IF NOT pg_try_advisory_xact_lock(hashtext('refresh_payment_totals')) THEN
        RETURN 0;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS changed_cells (
        day date, user_id uuid, currency_code integer, status text, sent integer, sent_volume numeric(18, 2),
        received integer, received_volume numeric(18, 2), suspicious integer, sent_suspicious integer)
        ON COMMIT DELETE ROWS;
    TRUNCATE changed_cells;  -- a second refresh in the same transaction
    -- What committed writers appended; what is appended meanwhile is left for the next refresh.
    WITH taken AS (DELETE FROM payment_totals_changes RETURNING *)
    INSERT INTO changed_cells
    SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume),
           sum(suspicious), sum(sent_suspicious)
    FROM (SELECT day, sender_id AS user_id, currency_code, status, sign AS sent, sign * amount AS sent_volume,
                 0 AS received, 0 AS received_volume, CASE WHEN is_suspicious THEN sign ELSE 0 END AS suspicious,
                 CASE WHEN is_suspicious THEN sign ELSE 0 END AS sent_suspicious
          FROM taken
          UNION ALL
          SELECT day, receiver_id, currency_code, status, 0, 0, sign, sign * amount,
                 CASE WHEN is_suspicious THEN sign ELSE 0 END, 0
          FROM taken) AS sides
    GROUP BY day, user_id, currency_code, status;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN 0;
    END IF;
    -- Its size known, a few cells are looked up by key below and a whole reload is joined.
    ANALYZE changed_cells;

    -- Each payment has one sender: the senders' side adds up to the day's totals.
    INSERT INTO daily_totals AS t (day, currency_code, status, transactions, volume, suspicious)
    SELECT day, currency_code, status, sum(sent), sum(sent_volume), sum(sent_suspicious)
    FROM changed_cells GROUP BY day, currency_code, status
    ORDER BY day, currency_code, status
    ON CONFLICT (day, currency_code, status) DO UPDATE
    SET transactions = t.transactions + excluded.transactions, volume = t.volume + excluded.volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM daily_totals t USING changed_cells c
    WHERE t.day = c.day AND t.currency_code = c.currency_code AND t.status = c.status AND t.transactions = 0;


    INSERT INTO user_daily_totals AS t (day, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY day, user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY day, user_id, currency_code, status
    ON CONFLICT (day, user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_daily_totals t USING changed_cells c
    WHERE t.day = c.day AND t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;

    INSERT INTO user_monthly_totals AS t (month, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT date_trunc('month', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY date_trunc('month', day)::date, user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY date_trunc('month', day)::date, user_id, currency_code, status
    ON CONFLICT (month, user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_monthly_totals t USING changed_cells c
    WHERE t.month = date_trunc('month', c.day)::date AND t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;

    INSERT INTO user_weekly_totals AS t (week, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT date_trunc('week', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY date_trunc('week', day)::date, user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY date_trunc('week', day)::date, user_id, currency_code, status
    ON CONFLICT (week, user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_weekly_totals t USING changed_cells c
    WHERE t.week = date_trunc('week', c.day)::date AND t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;

    INSERT INTO user_totals AS t (user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY user_id, currency_code, status
    ON CONFLICT (user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_totals t USING changed_cells c
    WHERE t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;
    RETURN changed;
END $$
"""

# Migration 0013's trigger function, whose TRUNCATE of transactions empties these tables too.
NOTE = """
CREATE OR REPLACE FUNCTION note_payment_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- After a refresh running now, not in the middle of it.
        PERFORM pg_advisory_xact_lock(hashtext('refresh_payment_totals'));
        TRUNCATE payment_totals_changes, daily_totals, user_daily_totals, user_monthly_totals, user_weekly_totals, user_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO payment_totals_changes
        SELECT (transaction_date AT TIME ZONE 'UTC')::date, sender_id, receiver_id, currency_code, status, amount, is_suspicious, 1 FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO payment_totals_changes
        SELECT (transaction_date AT TIME ZONE 'UTC')::date, sender_id, receiver_id, currency_code, status, amount, is_suspicious, -1 FROM old_rows;
    END IF;
    RETURN NULL;
END $$
"""

# What the downgrade puts back: migration 0013's functions, as it installed them.
_REFRESH_OF_0013 = """
CREATE OR REPLACE FUNCTION refresh_payment_totals() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    -- One refresher at a time; another caller finds the work taken and returns at once.
    IF NOT pg_try_advisory_xact_lock(hashtext('refresh_payment_totals')) THEN
        RETURN 0;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS changed_cells (
        day date, user_id uuid, currency_code integer, status text, sent integer, sent_volume numeric(18, 2),
        received integer, received_volume numeric(18, 2), suspicious integer, sent_suspicious integer)
        ON COMMIT DELETE ROWS;
    TRUNCATE changed_cells;  -- a second refresh in the same transaction
    -- What committed writers appended; what is appended meanwhile is left for the next refresh.
    WITH taken AS (DELETE FROM payment_totals_changes RETURNING *)
    INSERT INTO changed_cells
    SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume),
           sum(suspicious), sum(sent_suspicious)
    FROM (SELECT day, sender_id AS user_id, currency_code, status, sign AS sent, sign * amount AS sent_volume,
                 0 AS received, 0 AS received_volume, CASE WHEN is_suspicious THEN sign ELSE 0 END AS suspicious,
                 CASE WHEN is_suspicious THEN sign ELSE 0 END AS sent_suspicious
          FROM taken
          UNION ALL
          SELECT day, receiver_id, currency_code, status, 0, 0, sign, sign * amount,
                 CASE WHEN is_suspicious THEN sign ELSE 0 END, 0
          FROM taken) AS sides
    GROUP BY day, user_id, currency_code, status;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN 0;
    END IF;
    -- Its size known, a few cells are looked up by key below and a whole reload is joined.
    ANALYZE changed_cells;

    -- Each payment has one sender: the senders' side adds up to the day's totals.
    INSERT INTO daily_totals AS t (day, currency_code, status, transactions, volume, suspicious)
    SELECT day, currency_code, status, sum(sent), sum(sent_volume), sum(sent_suspicious)
    FROM changed_cells GROUP BY day, currency_code, status
    ORDER BY day, currency_code, status
    ON CONFLICT (day, currency_code, status) DO UPDATE
    SET transactions = t.transactions + excluded.transactions, volume = t.volume + excluded.volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM daily_totals t USING changed_cells c
    WHERE t.day = c.day AND t.currency_code = c.currency_code AND t.status = c.status AND t.transactions = 0;


    INSERT INTO user_daily_totals AS t (day, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY day, user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY day, user_id, currency_code, status
    ON CONFLICT (day, user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_daily_totals t USING changed_cells c
    WHERE t.day = c.day AND t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;

    INSERT INTO user_monthly_totals AS t (month, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
    SELECT date_trunc('month', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY date_trunc('month', day)::date, user_id, currency_code, status
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY date_trunc('month', day)::date, user_id, currency_code, status
    ON CONFLICT (month, user_id, currency_code, status) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM user_monthly_totals t USING changed_cells c
    WHERE t.month = date_trunc('month', c.day)::date AND t.user_id = c.user_id AND t.currency_code = c.currency_code AND t.status = c.status AND t.sent = 0 AND t.received = 0;
    RETURN changed;
END $$
"""

_NOTE_OF_0013 = """
CREATE OR REPLACE FUNCTION note_payment_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- After a refresh running now, not in the middle of it.
        PERFORM pg_advisory_xact_lock(hashtext('refresh_payment_totals'));
        TRUNCATE payment_totals_changes, daily_totals, user_daily_totals, user_monthly_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO payment_totals_changes
        SELECT (transaction_date AT TIME ZONE 'UTC')::date, sender_id, receiver_id, currency_code, status, amount, is_suspicious, 1 FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO payment_totals_changes
        SELECT (transaction_date AT TIME ZONE 'UTC')::date, sender_id, receiver_id, currency_code, status, amount, is_suspicious, -1 FROM old_rows;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    _user_totals("user_totals")
    _user_totals("user_weekly_totals", sa.Column("week", sa.Date(), nullable=False))  # its Monday
    op.execute(REFRESH)
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
    op.execute(NOTE)


def downgrade() -> None:
    op.execute(_REFRESH_OF_0013)
    op.execute(_NOTE_OF_0013)
    op.drop_table("user_weekly_totals")
    op.drop_table("user_totals")
