-- The trigger function: every statement on `transactions` appends the rows it wrote (+1) or removed (-1) to the
-- half of the log that writers append to now; a TRUNCATE of `transactions` empties the log and the totals.
-- Installed by migration 0019.
CREATE OR REPLACE FUNCTION note_payment_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    half text := 'payment_totals_changes_' || (SELECT last_value % 2 FROM payment_totals_changes_turn);
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- After a refresh running now, not in the middle of it.
        PERFORM pg_advisory_xact_lock(hashtext('refresh_payment_totals'));
        TRUNCATE payment_totals_changes_0, payment_totals_changes_1, daily_totals, user_daily_totals, user_monthly_totals, user_weekly_totals, user_totals;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('INSERT INTO %I SELECT (transaction_date AT TIME ZONE ''UTC'')::date, sender_id, receiver_id, currency_code, status, 1, '
                       'CASE WHEN is_suspicious THEN 1 ELSE 0 END, amount FROM new_rows', half);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('INSERT INTO %I SELECT (transaction_date AT TIME ZONE ''UTC'')::date, sender_id, receiver_id, currency_code, status, -1, '
                       'CASE WHEN is_suspicious THEN -1 ELSE 0 END, -amount FROM old_rows', half);
    END IF;
    RETURN NULL;
END $$
