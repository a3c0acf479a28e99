-- The refresh: takes the log's half that writers no longer append to, adds its changes to every table of totals,
-- and drops the cells that fell to zero. Installed by migration 0021.
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
    IF NOT pg_try_advisory_xact_lock(hashtext('refresh_payment_totals')) THEN
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
    EXECUTE format($take$
        WITH taken AS (%s)
        INSERT INTO changed_cells
        SELECT day, coalesce(sender_id, receiver_id), currency_code, status,
               CASE grouping(sender_id) WHEN 0 THEN sum(sign) ELSE 0 END,
               CASE grouping(sender_id) WHEN 0 THEN sum(volume) ELSE 0 END,
               CASE grouping(sender_id) WHEN 0 THEN 0 ELSE sum(sign) END,
               CASE grouping(sender_id) WHEN 0 THEN 0 ELSE sum(volume) END,
               sum(suspicious),
               CASE grouping(sender_id) WHEN 0 THEN sum(suspicious) ELSE 0 END
        FROM taken
        GROUP BY GROUPING SETS ((day, sender_id, currency_code, status), (day, receiver_id, currency_code, status))$take$, format('DELETE FROM %I RETURNING *', newer));
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
    EXECUTE format($take$
        WITH taken AS (%s)
        INSERT INTO changed_cells
        SELECT day, coalesce(sender_id, receiver_id), currency_code, status,
               CASE grouping(sender_id) WHEN 0 THEN sum(sign) ELSE 0 END,
               CASE grouping(sender_id) WHEN 0 THEN sum(volume) ELSE 0 END,
               CASE grouping(sender_id) WHEN 0 THEN 0 ELSE sum(sign) END,
               CASE grouping(sender_id) WHEN 0 THEN 0 ELSE sum(volume) END,
               sum(suspicious),
               CASE grouping(sender_id) WHEN 0 THEN sum(suspicious) ELSE 0 END
        FROM taken
        GROUP BY GROUPING SETS ((day, sender_id, currency_code, status), (day, receiver_id, currency_code, status))$take$,
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

    WITH folded AS (
        INSERT INTO daily_totals AS t (day, currency_code, status, transactions, volume, suspicious)
        SELECT day, currency_code, status, sum(sent), sum(sent_volume), sum(sent_suspicious)
        FROM changed_cells GROUP BY day, currency_code, status
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY day, currency_code, status
        ON CONFLICT (day, currency_code, status) DO UPDATE
        SET transactions = t.transactions + excluded.transactions, volume = t.volume + excluded.volume, suspicious = t.suspicious + excluded.suspicious
        RETURNING t.day AS period, NULL::uuid AS user_id, t.currency_code, t.status, t.transactions = 0 AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM daily_totals t USING emptied_cells e WHERE t.day = e.period AND t.currency_code = e.currency_code AND t.status = e.status AND t.transactions = 0;
        TRUNCATE emptied_cells;
    END IF;

    WITH folded AS (
        INSERT INTO user_daily_totals AS t (day, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
        SELECT day, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
        FROM changed_cells GROUP BY day, user_id, currency_code, status
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY day, user_id, currency_code, status
        ON CONFLICT (day, user_id, currency_code, status) DO UPDATE
        SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume, received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume, suspicious = t.suspicious + excluded.suspicious
        RETURNING t.day AS period, t.user_id AS user_id, t.currency_code, t.status, t.sent = 0 AND t.received = 0 AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM user_daily_totals t USING emptied_cells e WHERE t.day = e.period AND t.user_id = e.user_id AND t.currency_code = e.currency_code AND t.status = e.status AND t.sent = 0 AND t.received = 0;
        TRUNCATE emptied_cells;
    END IF;

    WITH folded AS (
        INSERT INTO user_monthly_totals AS t (month, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
        SELECT date_trunc('month', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
        FROM changed_cells GROUP BY date_trunc('month', day)::date, user_id, currency_code, status
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY date_trunc('month', day)::date, user_id, currency_code, status
        ON CONFLICT (month, user_id, currency_code, status) DO UPDATE
        SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume, received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume, suspicious = t.suspicious + excluded.suspicious
        RETURNING t.month AS period, t.user_id AS user_id, t.currency_code, t.status, t.sent = 0 AND t.received = 0 AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM user_monthly_totals t USING emptied_cells e WHERE t.month = e.period AND t.user_id = e.user_id AND t.currency_code = e.currency_code AND t.status = e.status AND t.sent = 0 AND t.received = 0;
        TRUNCATE emptied_cells;
    END IF;

    WITH folded AS (
        INSERT INTO user_weekly_totals AS t (week, user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
        SELECT date_trunc('week', day)::date, user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
        FROM changed_cells GROUP BY date_trunc('week', day)::date, user_id, currency_code, status
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY date_trunc('week', day)::date, user_id, currency_code, status
        ON CONFLICT (week, user_id, currency_code, status) DO UPDATE
        SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume, received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume, suspicious = t.suspicious + excluded.suspicious
        RETURNING t.week AS period, t.user_id AS user_id, t.currency_code, t.status, t.sent = 0 AND t.received = 0 AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM user_weekly_totals t USING emptied_cells e WHERE t.week = e.period AND t.user_id = e.user_id AND t.currency_code = e.currency_code AND t.status = e.status AND t.sent = 0 AND t.received = 0;
        TRUNCATE emptied_cells;
    END IF;

    WITH folded AS (
        INSERT INTO user_totals AS t (user_id, currency_code, status, sent, sent_volume, received, received_volume, suspicious)
        SELECT user_id, currency_code, status, sum(sent), sum(sent_volume), sum(received), sum(received_volume), sum(suspicious)
        FROM changed_cells GROUP BY user_id, currency_code, status
        -- In key order, so that a period's new rows sit together on disk: a range of periods reads few pages.
        ORDER BY user_id, currency_code, status
        ON CONFLICT (user_id, currency_code, status) DO UPDATE
        SET sent = t.sent + excluded.sent, sent_volume = t.sent_volume + excluded.sent_volume, received = t.received + excluded.received, received_volume = t.received_volume + excluded.received_volume, suspicious = t.suspicious + excluded.suspicious
        RETURNING NULL::date AS period, t.user_id AS user_id, t.currency_code, t.status, t.sent = 0 AND t.received = 0 AS fell_to_zero)
    INSERT INTO emptied_cells SELECT period, user_id, currency_code, status FROM folded WHERE fell_to_zero;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    IF emptied > 0 THEN
        DELETE FROM user_totals t USING emptied_cells e WHERE t.user_id = e.user_id AND t.currency_code = e.currency_code AND t.status = e.status AND t.sent = 0 AND t.received = 0;
        TRUNCATE emptied_cells;
    END IF;
    RETURN changed;
END $$
