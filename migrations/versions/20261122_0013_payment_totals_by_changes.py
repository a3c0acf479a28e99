"""The dashboards' totals follow the rows that changed, not the days they fell on.

Migration 0008 noted the days a statement touched and recomputed each such day from `transactions`. A refresh
then cost as much as the whole day: with a steady stream of payments, all dated today, every refresh read all of
today's payments again, so it grew slower through the day (200,000 payments today: each refresh read them all).

Now the statement-level triggers append the rows a statement changed to `payment_totals_changes`, each with a
sign: +1 for a row written (INSERT, or the new version of an UPDATE), -1 for a row gone (DELETE, or the old
version of an UPDATE). `refresh_payment_totals()` takes what was appended since the last refresh and adds it to
the totals, so it costs as much as what changed. The triggers run in the writer's own transaction, so a change is
in the log if and only if it is in the table: the totals stay exact. The log is append-only, so two writers never
wait on each other; only the refresh, one at a time, writes the totals. TRUNCATE empties the totals with the table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A payment's day; a constant of this module, formatted into the SQL below (never data).
_DAY = "(transaction_date AT TIME ZONE 'UTC')::date"
_LOCK = "hashtext('refresh_payment_totals')"

NOTE = f"""
CREATE FUNCTION note_payment_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- After a refresh running now, not in the middle of it.
        PERFORM pg_advisory_xact_lock({_LOCK});
        TRUNCATE payment_totals_changes, daily_totals, user_daily_totals, user_monthly_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO payment_totals_changes
        SELECT {_DAY}, sender_id, receiver_id, currency_code, status, amount, is_suspicious, 1 FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO payment_totals_changes
        SELECT {_DAY}, sender_id, receiver_id, currency_code, status, amount, is_suspicious, -1 FROM old_rows;
    END IF;
    RETURN NULL;
END $$
"""

def _fold_user_totals(table: str, period: str | None = None, of_day: str = "") -> str:
    """This migration's refresh's SQL that adds `changed_cells` to one table of users' totals, per `period` (a
    column: the cell's day through `of_day`, a format of `{day}`) or for all time, then deletes the cells left at
    zero. Table, column and expression are constants of this file, never data."""
    keys = [k for k in (period, "user_id", "currency_code", "status") if k]
    at = [of_day.format(day="day")] if period else []
    picked = ", ".join(at + ["user_id", "currency_code", "status"])
    match = [f"t.{period} = {of_day.format(day='c.day')}"] if period else []
    match += [f"t.{k} = c.{k}" for k in ("user_id", "currency_code", "status")]
    return f"""
    INSERT INTO {table} AS t ({", ".join(keys)}, sent, sent_volume, received, received_volume, suspicious)
    SELECT {picked}, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
    FROM changed_cells GROUP BY {picked}
    -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
    ORDER BY {picked}
    ON CONFLICT ({", ".join(keys)}) DO UPDATE
    SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume,
        received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume,
        suspicious = t.suspicious + excluded.suspicious;
    DELETE FROM {table} t USING changed_cells c
    WHERE {" AND ".join(match)} AND t.sent = 0 AND t.received = 0;
"""


_USER_DAILY = _fold_user_totals("user_daily_totals", "day", "{day}")
_USER_MONTHLY = _fold_user_totals("user_monthly_totals", "month", "date_trunc('month', {day})::date")

# Each total is a sum over cells (day, user or not, currency, status); a cell whose payments are all gone is
# deleted, so that a total reads the same as the query over `transactions` it stands for.
REFRESH = f"""
CREATE OR REPLACE FUNCTION refresh_payment_totals() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    -- One refresher at a time; another caller finds the work taken and returns at once.
    IF NOT pg_try_advisory_xact_lock({_LOCK}) THEN
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

{_USER_DAILY}{_USER_MONTHLY}    RETURN changed;
END $$
"""

_OLD_TRIGGERS = ("payment_days_inserted", "payment_days_updated", "payment_days_deleted", "payment_days_truncated")

TRIGGERS = [
    "CREATE TRIGGER payment_changes_inserted AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes()",
    "CREATE TRIGGER payment_changes_updated AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes()",
    "CREATE TRIGGER payment_changes_deleted AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes()",
    "CREATE TRIGGER payment_changes_truncated AFTER TRUNCATE ON transactions "
    "FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes()",
]


# What the downgrade puts back: migration 0008's functions and triggers, as it installed them.
_REFRESH_OF_0008 = """
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

_MARK_OF_0008 = """
CREATE FUNCTION mark_payment_days_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT day FROM daily_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT (transaction_date AT TIME ZONE 'UTC')::date FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO payment_totals_stale (day) SELECT DISTINCT (transaction_date AT TIME ZONE 'UTC')::date FROM old_rows;
    END IF;
    RETURN NULL;
END $$
"""

_TRIGGERS_OF_0008 = [
    'CREATE TRIGGER payment_days_inserted AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()',
    'CREATE TRIGGER payment_days_updated AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()',
    'CREATE TRIGGER payment_days_deleted AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()',
    'CREATE TRIGGER payment_days_truncated AFTER TRUNCATE ON transactions FOR EACH STATEMENT EXECUTE FUNCTION mark_payment_days_stale()',
]


def create_log() -> None:
    """The log of changes (migration 0019 splits it in two)."""
    # No key and no index: appended to by every write, read whole and emptied by the refresh.
    op.create_table(
        "payment_totals_changes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sender_id", sa.UUID(), nullable=False),
        sa.Column("receiver_id", sa.UUID(), nullable=False),
        sa.Column("currency_code", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("is_suspicious", sa.Boolean(), nullable=False),
        sa.Column("sign", sa.SmallInteger(), nullable=False),
    )


def upgrade() -> None:
    for trigger in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON transactions")
    op.execute("DROP FUNCTION mark_payment_days_stale()")
    op.drop_table("payment_totals_stale")
    create_log()
    op.execute(NOTE)
    op.execute(REFRESH)
    for trigger in TRIGGERS:
        op.execute(trigger)
    # The totals again from every payment, through the new path.
    op.execute("TRUNCATE daily_totals, user_daily_totals, user_monthly_totals")
    op.execute(f"INSERT INTO payment_totals_changes SELECT {_DAY}, sender_id, receiver_id, currency_code, status, "
               "amount, is_suspicious, 1 FROM transactions")
    op.execute("SELECT refresh_payment_totals()")


def downgrade() -> None:
    for trigger in ("payment_changes_inserted", "payment_changes_updated", "payment_changes_deleted",
                    "payment_changes_truncated"):
        op.execute(f"DROP TRIGGER {trigger} ON transactions")
    op.execute("DROP FUNCTION note_payment_changes(), refresh_payment_totals()")
    op.drop_table("payment_totals_changes")
    op.create_table(
        "payment_totals_stale",
        sa.Column("stale_id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("stale_id", name=op.f("pk_payment_totals_stale")),
    )
    op.execute(_REFRESH_OF_0008)
    op.execute(_MARK_OF_0008)
    for trigger in _TRIGGERS_OF_0008:
        op.execute(trigger)
