"""The refresh of the totals leaves no dead rows behind, and reads the log once.

The refresh of migrations 0013 and 0016 cost the ingestion more than the rest of the dashboards' work together:
with 40,000 changes every 2 seconds, it deleted them one by one from the log (a WAL record and a dead row each,
which the next refresh read again until VACUUM came), read them twice (senders, then receivers), and updated each
changed cell twice in every table of totals (an index entry and a dead row each), then joined every changed cell
again to find the few that fell to zero. Its cost grew between two VACUUMs.

- The log has two halves, `payment_totals_changes_0` and `_1` (the view `payment_totals_changes` shows both).
  Writers append to the half named by the parity of the sequence `payment_totals_changes_turn`. The refresh
  turns it (a sequence is seen by every session at once, without a commit), waits for the writers still
  appending to the other half, takes that half whole and empties it with TRUNCATE: nothing to VACUUM. A writer
  that keeps the half longer than a second (a manual fix left open) is not waited for: the refresh takes what is
  committed with DELETE, and whatever a half still holds is taken by DELETE at the next refresh. Under an isolation
  stricter than READ COMMITTED a snapshot may miss rows, so then only DELETE is used.
- Each change carries its signed volume and suspicious count; the refresh reads it once, each row giving its
  sender's cell and its receiver's.
- A cell that falls to zero is found in what the upsert returns; the join with every changed cell is gone.
- The totals that every refresh rewrites keep half of each page free (`daily_totals`, the weekly, monthly and
  all-time users' totals), so that an update of a cell stays on its page without a new index entry (a HOT update),
  and the next refresh reclaims the old version there. This applies to pages written from now on. Not
  `user_daily_totals`: it is the largest (516 MB at 10 million payments) and would double, for a saving of about
  one microsecond an event.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Constants of this module, formatted into the SQL below (never data).
_DAY = "(transaction_date AT TIME ZONE 'UTC')::date"
_LOCK = "hashtext('refresh_payment_totals')"
_DAY_QUOTED = _DAY.replace("'", "''")  # inside a string of EXECUTE
_HALVES = ("payment_totals_changes_0", "payment_totals_changes_1")
_TOTALS = "daily_totals, user_daily_totals, user_monthly_totals, user_weekly_totals, user_totals"
_HALF_FULL = ("daily_totals", "user_weekly_totals", "user_monthly_totals", "user_totals")

NOTE = f"""
CREATE OR REPLACE FUNCTION note_payment_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    half text := 'payment_totals_changes_' || (SELECT last_value % 2 FROM payment_totals_changes_turn);
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- After a refresh running now, not in the middle of it.
        PERFORM pg_advisory_xact_lock({_LOCK});
        TRUNCATE {", ".join(_HALVES)}, {_TOTALS};
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('INSERT INTO %I SELECT {_DAY_QUOTED}, sender_id, receiver_id, currency_code, status, 1, '
                       'CASE WHEN is_suspicious THEN 1 ELSE 0 END, amount FROM new_rows', half);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('INSERT INTO %I SELECT {_DAY_QUOTED}, sender_id, receiver_id, currency_code, status, -1, '
                       'CASE WHEN is_suspicious THEN -1 ELSE 0 END, -amount FROM old_rows', half);
    END IF;
    RETURN NULL;
END $$
"""


# Each table's columns of sums, as added up from `changed_cells`.
_USER_SUMS = {"sent": "sum(sent)", "sent_volume": "sum(sent_volume)", "received": "sum(received)",
              "received_volume": "sum(received_volume)", "suspicious": "sum(suspicious)"}
_DAY_SUMS = {"transactions": "sum(sent)", "volume": "sum(sent_volume)", "suspicious": "sum(sent_suspicious)"}


def _fold(table: str, period: str | None, of_day: str, *, per_user: bool = True) -> str:
    """The refresh's SQL that adds `changed_cells` to one table of totals, per `period` (a column: the cell's day
    through `of_day`, a format of `{day}`) or for all time, per user or not; then deletes the cells that fell to
    zero, found in what the upsert returns. Table, columns and expressions are constants of this module, never
    data."""
    sums = _USER_SUMS if per_user else _DAY_SUMS
    empty = "t.sent = 0 AND t.received = 0" if per_user else "t.transactions = 0"
    kinds = ["user_id"] * per_user + ["currency_code", "status"]
    keys = [period] * bool(period) + kinds
    picked = ", ".join([of_day.format(day="day")] * bool(period) + kinds)
    returned = ", ".join([f"{f't.{period}' if period else 'NULL::date'} AS period",
                          f"{'t.user_id' if per_user else 'NULL::uuid'} AS user_id", "t.currency_code", "t.status"])
    match = [f"t.{period} = e.period"] * bool(period) + [f"t.{k} = e.{k}" for k in kinds]
    return f"""
    WITH folded AS (
        INSERT INTO {table} AS t ({", ".join(keys)}, {", ".join(sums)})
        SELECT {picked}, {", ".join(sums.values())}
        FROM changed_cells GROUP BY {picked}
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY {picked}
        ON CONFLICT ({", ".join(keys)}) DO UPDATE
        SET {", ".join(f"{c} = t.{c} + excluded.{c}" for c in sums)}
        RETURNING {returned}, {empty} AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM {table} t USING emptied_cells e WHERE {" AND ".join(match)} AND {empty};
        TRUNCATE emptied_cells;
    END IF;
"""


# The changes of one half, each giving its sender's cell and its receiver's; %s is the statement yielding them.
_TAKE = """
        WITH taken AS (%s)
        INSERT INTO changed_cells
        SELECT day, side.user_id, currency_code, status, sum(side.sent), sum(side.sent_volume), sum(side.received),
               sum(side.received_volume), sum(suspicious), sum(side.sent_suspicious)
        FROM taken CROSS JOIN LATERAL (VALUES (sender_id, sign, volume, 0, 0, suspicious),
                                              (receiver_id, 0, 0, sign, volume, 0))
            AS side (user_id, sent, sent_volume, received, received_volume, sent_suspicious)
        GROUP BY day, side.user_id, currency_code, status"""

def _refresh(take: str = _TAKE) -> str:
    """The SQL of this migration's `refresh_payment_totals()`, reading each half with `take`."""
    return f"""
CREATE OR REPLACE FUNCTION refresh_payment_totals() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
    left_over integer;
    emptied integer;
    turned bigint;
    newer text;
    older text;
    whole boolean := current_setting('transaction_isolation') = 'read committed';
    waiting text := current_setting('lock_timeout');
BEGIN
    -- One refresher at a time; another caller finds the work taken and returns at once.
    IF NOT pg_try_advisory_xact_lock({_LOCK}) THEN
        RETURN 0;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS changed_cells (
        day date, user_id uuid, currency_code integer, status text, sent integer, sent_volume numeric(18, 2),
        received integer, received_volume numeric(18, 2), suspicious integer, sent_suspicious integer)
        ON COMMIT DELETE ROWS;
    CREATE TEMPORARY TABLE IF NOT EXISTS emptied_cells (period date, user_id uuid, currency_code integer, status text)
        ON COMMIT DELETE ROWS;
    TRUNCATE changed_cells, emptied_cells;  -- a second refresh in the same transaction

    -- Writers append to the other half from now on. What an earlier refresh could not take whole from that half
    -- (a writer it did not wait for) is taken now, with the few rows appended since the turn.
    turned := nextval('payment_totals_changes_turn');
    newer := 'payment_totals_changes_' || turned % 2;
    older := 'payment_totals_changes_' || (turned - 1) % 2;
    EXECUTE format($take${take}$take$, format('DELETE FROM %I RETURNING *', newer));
    GET DIAGNOSTICS left_over = ROW_COUNT;
    -- The half they were appending to: whole, once the writers still at it have committed.
    IF whole THEN
        BEGIN
            PERFORM set_config('lock_timeout', '1s', true);
            EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', older);
        EXCEPTION WHEN lock_not_available THEN
            whole := false;
        END;
        PERFORM set_config('lock_timeout', waiting, true);
    END IF;
    EXECUTE format($take${take}$take$,
                   format(CASE WHEN whole THEN 'SELECT * FROM %I' ELSE 'DELETE FROM %I RETURNING *' END, older));
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF whole THEN
        EXECUTE format('TRUNCATE %I', older);
    END IF;
    IF left_over > 0 AND changed > 0 THEN  -- a cell may have come from both halves
        SELECT count(*) INTO changed FROM (SELECT DISTINCT day, user_id, currency_code, status FROM changed_cells) c;
    ELSE
        changed := changed + left_over;
    END IF;
    IF changed = 0 THEN
        RETURN 0;
    END IF;
{_fold("daily_totals", "day", "{day}", per_user=False)}{_fold("user_daily_totals", "day", "{day}")}\
{_fold("user_monthly_totals", "month", "date_trunc('month', {day})::date")}\
{_fold("user_weekly_totals", "week", "date_trunc('week', {day})::date")}{_fold("user_totals", None, "")}\
    RETURN changed;
END $$
"""


REFRESH = _refresh()


# What the downgrade puts back: migration 0016's functions, as it installed them.
_REFRESH_OF_0016 = """
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

_NOTE_OF_0016 = """
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


def _log() -> None:
    """The log of changes in one table, as migration 0013 created it."""
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


def _half(name: str) -> None:
    # No key and no index: appended to by every write, read whole and emptied by the refresh.
    op.create_table(
        name,
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sender_id", sa.UUID(), nullable=False),
        sa.Column("receiver_id", sa.UUID(), nullable=False),
        sa.Column("currency_code", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("sign", sa.SmallInteger(), nullable=False),  # +1 written, -1 removed
        sa.Column("suspicious", sa.SmallInteger(), nullable=False),  # the sign if suspicious, else 0
        sa.Column("volume", sa.Numeric(12, 2), nullable=False),  # the amount, with the sign
    )


def upgrade() -> None:
    # Starts at 1, and is called once so that each refresh's nextval changes its parity.
    op.execute("CREATE SEQUENCE payment_totals_changes_turn")
    op.execute("SELECT nextval('payment_totals_changes_turn')")
    for half in _HALVES:
        _half(half)
    op.execute(f"""
        INSERT INTO {_HALVES[1]}
        SELECT day, sender_id, receiver_id, currency_code, status, sign,
               CASE WHEN is_suspicious THEN sign ELSE 0 END, sign * amount
        FROM payment_totals_changes""")
    op.drop_table("payment_totals_changes")
    op.execute(f"CREATE VIEW payment_totals_changes AS SELECT * FROM {_HALVES[0]} UNION ALL SELECT * FROM {_HALVES[1]}")
    op.execute(NOTE)
    op.execute(REFRESH)
    for table in _HALF_FULL:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    for table in _HALF_FULL:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.execute("ALTER VIEW payment_totals_changes RENAME TO payment_totals_changes_halves")
    _log()
    op.execute("""
        INSERT INTO payment_totals_changes
        SELECT day, sender_id, receiver_id, currency_code, status, sign * volume, suspicious <> 0, sign
        FROM payment_totals_changes_halves""")
    op.execute("DROP VIEW payment_totals_changes_halves")
    op.execute(_REFRESH_OF_0016)
    op.execute(_NOTE_OF_0016)
    for half in _HALVES:
        op.drop_table(half)
    op.execute("DROP SEQUENCE payment_totals_changes_turn")
