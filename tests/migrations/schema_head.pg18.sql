-- PostgreSQL 18: upgrade head from an empty database, pg_dump --schema-only, normalised (tests/migrations/test_standalone.py)
CREATE FUNCTION public.note_payment_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
END $$;
CREATE FUNCTION public.refresh_payment_totals() RETURNS integer
    LANGUAGE plpgsql
    AS $_$
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
END $_$;
CREATE FUNCTION public.transactions_touch_modified_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.modified_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TABLE public.accounts (
    account_id integer NOT NULL,
    username character varying(150) NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    password_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ck_accounts_role_known CHECK ((role = ANY (ARRAY['viewer'::text, 'importer'::text])))
);
ALTER TABLE public.accounts ALTER COLUMN account_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.accounts_account_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);
CREATE TABLE public.api_tokens (
    token_id integer NOT NULL,
    name character varying(100) NOT NULL,
    public_id character varying(16) NOT NULL,
    secret_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    account_id integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    CONSTRAINT ck_api_tokens_ck_api_tokens_scopes_known CHECK (((scopes <@ ARRAY['read'::text, 'import'::text]) AND (cardinality(scopes) > 0)))
);
ALTER TABLE public.api_tokens ALTER COLUMN token_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.api_tokens_token_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.currencies (
    numeric_code smallint NOT NULL,
    alpha_code character varying(3) NOT NULL,
    name text NOT NULL,
    minor_units smallint,
    CONSTRAINT ck_currencies_alpha_code_format CHECK (((alpha_code)::text ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT ck_currencies_numeric_code_range CHECK (((numeric_code >= 1) AND (numeric_code <= 999)))
);
CREATE TABLE public.imports (
    import_id uuid NOT NULL,
    file_name text NOT NULL,
    sha256 character varying(64) NOT NULL,
    s3_key text NOT NULL,
    size_bytes bigint NOT NULL,
    uploaded_at timestamp with time zone DEFAULT now() NOT NULL,
    rows_read integer NOT NULL,
    rows_unique integer NOT NULL,
    rows_duplicate integer NOT NULL,
    rows_suspicious integer NOT NULL,
    rows_malformed integer NOT NULL,
    rows_published integer NOT NULL,
    status text NOT NULL,
    content_digest character varying(48),
    lines_total integer DEFAULT 0 NOT NULL,
    lines_blank integer DEFAULT 0 NOT NULL,
    lines_in_fields integer DEFAULT 0 NOT NULL,
    rows_already_imported integer DEFAULT 0 NOT NULL,
    uploaded_by character varying(150),
    rows_conflict integer DEFAULT 0 NOT NULL,
    CONSTRAINT ck_imports_status_known CHECK ((status = ANY (ARRAY['archiving'::text, 'publishing'::text, 'published'::text, 'partially_published'::text])))
);
CREATE TABLE public.transactions (
    transaction_id uuid NOT NULL,
    sender_id uuid NOT NULL,
    receiver_id uuid NOT NULL,
    amount numeric(12,2) NOT NULL,
    currency_code smallint NOT NULL,
    transaction_date timestamp with time zone NOT NULL,
    status text NOT NULL,
    is_suspicious boolean DEFAULT false NOT NULL,
    source text NOT NULL,
    import_id uuid,
    import_line integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    modified_at timestamp with time zone DEFAULT now() NOT NULL,
    topic text,
    partition integer,
    "offset" bigint,
    CONSTRAINT ck_transactions_amount_positive CHECK ((amount > (0)::numeric)),
    CONSTRAINT ck_transactions_import_provenance CHECK (((source = 'csv_import'::text) = ((import_id IS NOT NULL) AND (import_line IS NOT NULL)))),
    CONSTRAINT ck_transactions_sender_not_receiver CHECK ((sender_id <> receiver_id)),
    CONSTRAINT ck_transactions_source_known CHECK ((source = ANY (ARRAY['generator'::text, 'csv_import'::text, 'manual'::text]))),
    CONSTRAINT ck_transactions_status_known CHECK ((status = ANY (ARRAY['pending'::text, 'completed'::text, 'failed'::text])))
);
CREATE TABLE public.users (
    user_id uuid NOT NULL,
    username character varying(150) NOT NULL,
    full_name text NOT NULL,
    email text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    is_active boolean DEFAULT true NOT NULL
);
CREATE VIEW public.bi_transactions AS
 SELECT t.transaction_id,
    t.transaction_date,
    ((t.transaction_date AT TIME ZONE 'UTC'::text))::date AS day,
    t.sender_id,
    s.username AS sender_username,
    t.receiver_id,
    r.username AS receiver_username,
    t.amount,
    t.currency_code,
    c.alpha_code AS currency,
    t.status,
    t.is_suspicious,
    t.source,
    t.import_id,
    i.file_name AS import_file,
    t.import_line,
    t.created_at,
    t.modified_at
   FROM ((((public.transactions t
     JOIN public.users s ON ((s.user_id = t.sender_id)))
     JOIN public.users r ON ((r.user_id = t.receiver_id)))
     JOIN public.currencies c ON ((c.numeric_code = t.currency_code)))
     LEFT JOIN public.imports i ON ((i.import_id = t.import_id)));
CREATE VIEW public.bi_daily_volume AS
 SELECT day,
    currency,
    status,
    count(*) AS transactions,
    sum(amount) AS volume,
    count(*) FILTER (WHERE is_suspicious) AS suspicious
   FROM public.bi_transactions
  GROUP BY day, currency, status;
CREATE TABLE public.rejected_events (
    rejected_event_id bigint NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    message_key bytea,
    payload bytea NOT NULL,
    payload_size integer NOT NULL,
    reasons jsonb NOT NULL,
    transaction_id uuid,
    import_id uuid,
    import_line integer,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL,
    message_timestamp timestamp with time zone
);
CREATE VIEW public.bi_rejection_reasons AS
 SELECT e.rejected_event_id,
    e.rejected_at,
    ((e.rejected_at AT TIME ZONE 'UTC'::text))::date AS day,
    e.topic,
    e.import_id,
    e.import_line,
    (reason.value ->> 'code'::text) AS code,
    NULLIF((reason.value ->> 'field'::text), ''::text) AS field,
    (reason.value ->> 'message'::text) AS message
   FROM public.rejected_events e,
    LATERAL jsonb_array_elements(e.reasons) reason(value);
CREATE VIEW public.bi_rejections_by_import AS
 SELECT i.import_id,
    i.file_name,
    i.uploaded_at,
    i.rows_published,
    count(DISTINCT e.import_line) AS rows_rejected
   FROM (public.imports i
     LEFT JOIN public.rejected_events e ON ((e.import_id = i.import_id)))
  GROUP BY i.import_id, i.file_name, i.uploaded_at, i.rows_published;
CREATE VIEW public.bi_user_activity AS
 SELECT u.user_id,
    u.username,
    a.currency,
    count(*) FILTER (WHERE (a.direction = 'sent'::text)) AS sent_count,
    COALESCE(sum(a.amount) FILTER (WHERE (a.direction = 'sent'::text)), (0)::numeric) AS sent_amount,
    count(*) FILTER (WHERE (a.direction = 'received'::text)) AS received_count,
    COALESCE(sum(a.amount) FILTER (WHERE (a.direction = 'received'::text)), (0)::numeric) AS received_amount
   FROM (( SELECT bi_transactions.sender_id AS user_id,
            'sent'::text AS direction,
            bi_transactions.currency,
            bi_transactions.amount
           FROM public.bi_transactions
        UNION ALL
         SELECT bi_transactions.receiver_id,
            'received'::text,
            bi_transactions.currency,
            bi_transactions.amount
           FROM public.bi_transactions) a
     JOIN public.users u ON ((u.user_id = a.user_id)))
  GROUP BY u.user_id, u.username, a.currency;
CREATE TABLE public.daily_totals (
    day date NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    transactions integer NOT NULL,
    volume numeric(18,2) NOT NULL,
    suspicious integer NOT NULL
)
WITH (fillfactor='50');
CREATE TABLE public.import_flags (
    import_id uuid NOT NULL,
    kind text NOT NULL,
    line_number integer NOT NULL,
    fields jsonb NOT NULL,
    last_line integer,
    repeats integer[],
    CONSTRAINT ck_import_flags_kind_known CHECK ((kind = ANY (ARRAY['duplicate'::text, 'suspicious'::text, 'malformed'::text, 'conflict'::text])))
);
CREATE TABLE public.import_progress (
    import_id uuid NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    last_offset bigint NOT NULL,
    rows_saved integer NOT NULL
);
CREATE TABLE public.overruled_flags (
    overruled_flag_id bigint NOT NULL,
    transaction_id uuid NOT NULL,
    amount numeric(12,2) NOT NULL,
    said_suspicious boolean NOT NULL,
    is_suspicious boolean NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    message_timestamp timestamp with time zone,
    import_id uuid,
    import_line integer,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE public.overruled_flags ALTER COLUMN overruled_flag_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.overruled_flags_overruled_flag_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.payment_totals_changes_0 (
    day date NOT NULL,
    sender_id uuid NOT NULL,
    receiver_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sign smallint NOT NULL,
    suspicious smallint NOT NULL,
    volume numeric(12,2) NOT NULL
)
WITH (autovacuum_enabled='false');
CREATE TABLE public.payment_totals_changes_1 (
    day date NOT NULL,
    sender_id uuid NOT NULL,
    receiver_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sign smallint NOT NULL,
    suspicious smallint NOT NULL,
    volume numeric(12,2) NOT NULL
)
WITH (autovacuum_enabled='false');
CREATE VIEW public.payment_totals_changes AS
 SELECT payment_totals_changes_0.day,
    payment_totals_changes_0.sender_id,
    payment_totals_changes_0.receiver_id,
    payment_totals_changes_0.currency_code,
    payment_totals_changes_0.status,
    payment_totals_changes_0.sign,
    payment_totals_changes_0.suspicious,
    payment_totals_changes_0.volume
   FROM public.payment_totals_changes_0
UNION ALL
 SELECT payment_totals_changes_1.day,
    payment_totals_changes_1.sender_id,
    payment_totals_changes_1.receiver_id,
    payment_totals_changes_1.currency_code,
    payment_totals_changes_1.status,
    payment_totals_changes_1.sign,
    payment_totals_changes_1.suspicious,
    payment_totals_changes_1.volume
   FROM public.payment_totals_changes_1;
CREATE SEQUENCE public.payment_totals_changes_turn
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
CREATE TABLE public.service_levels (
    name text NOT NULL,
    minutes integer NOT NULL,
    CONSTRAINT ck_service_levels_minutes_positive CHECK ((minutes > 0))
);
CREATE VIEW public.pending_beyond_sla AS
 WITH sla AS (
         SELECT service_levels.minutes,
            (now() - make_interval(mins => service_levels.minutes)) AS cutoff
           FROM public.service_levels
          WHERE (service_levels.name = 'pending'::text)
        ), counted AS (
         SELECT d.currency_code,
            d.transactions AS payments
           FROM public.daily_totals d,
            sla
          WHERE ((d.status = 'pending'::text) AND (d.day < ((sla.cutoff AT TIME ZONE 'UTC'::text))::date))
        UNION ALL
         SELECT t.currency_code,
            1
           FROM public.transactions t,
            sla
          WHERE ((t.status = 'pending'::text) AND (t.transaction_date >= (date_trunc('day'::text, (sla.cutoff AT TIME ZONE 'UTC'::text)) AT TIME ZONE 'UTC'::text)) AND (t.transaction_date < sla.cutoff))
        )
 SELECT currency_code,
    sum(payments) AS payments,
    ( SELECT min(t.transaction_date) AS min
           FROM public.transactions t
          WHERE ((t.status = 'pending'::text) AND (t.currency_code = c.currency_code))) AS oldest,
    ( SELECT sla.minutes
           FROM sla) AS sla_minutes
   FROM counted c
  GROUP BY currency_code
 HAVING (sum(payments) > 0);
ALTER TABLE public.rejected_events ALTER COLUMN rejected_event_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.rejected_events_rejected_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.superseded_events (
    superseded_event_id bigint NOT NULL,
    transaction_id uuid NOT NULL,
    reason text NOT NULL,
    stored_status text NOT NULL,
    stored_date timestamp with time zone NOT NULL,
    incoming_status text NOT NULL,
    incoming_date timestamp with time zone NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    message_timestamp timestamp with time zone,
    import_id uuid,
    import_line integer,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    differing_fields text[],
    CONSTRAINT ck_superseded_events_reason_known CHECK ((reason = ANY (ARRAY['older'::text, 'conflict'::text])))
);
ALTER TABLE public.superseded_events ALTER COLUMN superseded_event_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.superseded_events_superseded_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.user_daily_totals (
    day date NOT NULL,
    user_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sent integer NOT NULL,
    sent_volume numeric(18,2) NOT NULL,
    received integer NOT NULL,
    received_volume numeric(18,2) NOT NULL,
    suspicious integer NOT NULL
);
CREATE TABLE public.user_monthly_totals (
    month date NOT NULL,
    user_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sent integer NOT NULL,
    sent_volume numeric(18,2) NOT NULL,
    received integer NOT NULL,
    received_volume numeric(18,2) NOT NULL,
    suspicious integer NOT NULL
)
WITH (fillfactor='50');
CREATE VIEW public.user_payments AS
 SELECT transactions.sender_id AS user_id,
    'sent'::text AS direction,
    transactions.receiver_id AS other_id,
    transactions.sender_id,
    transactions.receiver_id,
    transactions.transaction_id,
    transactions.transaction_date,
    ((transactions.transaction_date AT TIME ZONE 'UTC'::text))::date AS day,
    transactions.currency_code,
    transactions.status,
    transactions.amount,
    transactions.is_suspicious
   FROM public.transactions
UNION ALL
 SELECT transactions.receiver_id AS user_id,
    'received'::text AS direction,
    transactions.sender_id AS other_id,
    transactions.sender_id,
    transactions.receiver_id,
    transactions.transaction_id,
    transactions.transaction_date,
    ((transactions.transaction_date AT TIME ZONE 'UTC'::text))::date AS day,
    transactions.currency_code,
    transactions.status,
    transactions.amount,
    transactions.is_suspicious
   FROM public.transactions;
CREATE TABLE public.user_totals (
    user_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sent integer NOT NULL,
    sent_volume numeric(18,2) NOT NULL,
    received integer NOT NULL,
    received_volume numeric(18,2) NOT NULL,
    suspicious integer NOT NULL
)
WITH (fillfactor='50');
CREATE TABLE public.user_weekly_totals (
    week date NOT NULL,
    user_id uuid NOT NULL,
    currency_code integer NOT NULL,
    status text NOT NULL,
    sent integer NOT NULL,
    sent_volume numeric(18,2) NOT NULL,
    received integer NOT NULL,
    received_volume numeric(18,2) NOT NULL,
    suspicious integer NOT NULL
)
WITH (fillfactor='50');
CREATE TABLE public.web_sessions (
    token_hash bytea NOT NULL,
    account_id integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    ended_at timestamp with time zone
);
ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);
ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT pk_accounts PRIMARY KEY (account_id);
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT pk_api_tokens PRIMARY KEY (token_id);
ALTER TABLE ONLY public.currencies
    ADD CONSTRAINT pk_currencies PRIMARY KEY (numeric_code);
ALTER TABLE ONLY public.daily_totals
    ADD CONSTRAINT pk_daily_totals PRIMARY KEY (day, currency_code, status);
ALTER TABLE ONLY public.import_flags
    ADD CONSTRAINT pk_import_flags PRIMARY KEY (import_id, kind, line_number);
ALTER TABLE ONLY public.import_progress
    ADD CONSTRAINT pk_import_progress PRIMARY KEY (import_id, topic, partition);
ALTER TABLE ONLY public.imports
    ADD CONSTRAINT pk_imports PRIMARY KEY (import_id);
ALTER TABLE ONLY public.overruled_flags
    ADD CONSTRAINT pk_overruled_flags PRIMARY KEY (overruled_flag_id);
ALTER TABLE ONLY public.rejected_events
    ADD CONSTRAINT pk_rejected_events PRIMARY KEY (rejected_event_id);
ALTER TABLE ONLY public.service_levels
    ADD CONSTRAINT pk_service_levels PRIMARY KEY (name);
ALTER TABLE ONLY public.superseded_events
    ADD CONSTRAINT pk_superseded_events PRIMARY KEY (superseded_event_id);
ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT pk_transactions PRIMARY KEY (transaction_id);
ALTER TABLE ONLY public.user_daily_totals
    ADD CONSTRAINT pk_user_daily_totals PRIMARY KEY (day, user_id, currency_code, status);
ALTER TABLE ONLY public.user_monthly_totals
    ADD CONSTRAINT pk_user_monthly_totals PRIMARY KEY (month, user_id, currency_code, status);
ALTER TABLE ONLY public.user_totals
    ADD CONSTRAINT pk_user_totals PRIMARY KEY (user_id, currency_code, status);
ALTER TABLE ONLY public.user_weekly_totals
    ADD CONSTRAINT pk_user_weekly_totals PRIMARY KEY (week, user_id, currency_code, status);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT pk_users PRIMARY KEY (user_id);
ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT pk_web_sessions PRIMARY KEY (token_hash);
ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT uq_accounts_username UNIQUE (username);
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT uq_api_tokens_public_id UNIQUE (public_id);
ALTER TABLE ONLY public.currencies
    ADD CONSTRAINT uq_currencies_alpha_code UNIQUE (alpha_code);
ALTER TABLE ONLY public.overruled_flags
    ADD CONSTRAINT uq_overruled_flags_message UNIQUE NULLS NOT DISTINCT (topic, partition, "offset", message_timestamp);
ALTER TABLE ONLY public.rejected_events
    ADD CONSTRAINT uq_rejected_events_message UNIQUE NULLS NOT DISTINCT (topic, partition, "offset", message_timestamp);
ALTER TABLE ONLY public.superseded_events
    ADD CONSTRAINT uq_superseded_events_message UNIQUE NULLS NOT DISTINCT (topic, partition, "offset", message_timestamp);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT uq_users_username UNIQUE (username);
CREATE UNIQUE INDEX ix_api_tokens_open_name ON public.api_tokens USING btree (account_id, name) NULLS NOT DISTINCT WHERE (revoked_at IS NULL);
CREATE INDEX ix_imports_content_digest ON public.imports USING btree (content_digest);
CREATE INDEX ix_imports_sha256 ON public.imports USING btree (sha256);
CREATE INDEX ix_rejected_events_import_id ON public.rejected_events USING btree (import_id) WHERE (import_id IS NOT NULL);
CREATE INDEX ix_rejected_events_transaction_id ON public.rejected_events USING btree (transaction_id) WHERE (transaction_id IS NOT NULL);
CREATE INDEX ix_superseded_events_import_id ON public.superseded_events USING btree (import_id) WHERE (import_id IS NOT NULL);
CREATE INDEX ix_superseded_events_transaction_id ON public.superseded_events USING btree (transaction_id);
CREATE INDEX ix_transactions_import_id ON public.transactions USING btree (import_id) WHERE (import_id IS NOT NULL);
CREATE INDEX ix_transactions_pending ON public.transactions USING btree (transaction_date) INCLUDE (currency_code) WHERE (status = 'pending'::text);
CREATE INDEX ix_transactions_receiver ON public.transactions USING btree (receiver_id, transaction_date) INCLUDE (sender_id, currency_code, status, amount, is_suspicious);
CREATE INDEX ix_transactions_sender ON public.transactions USING btree (sender_id, transaction_date) INCLUDE (receiver_id, currency_code, status, amount, is_suspicious);
CREATE INDEX ix_transactions_suspicious ON public.transactions USING btree (transaction_date, transaction_id) INCLUDE (sender_id, receiver_id, amount, currency_code, status, source) WHERE is_suspicious;
CREATE INDEX ix_transactions_suspicious_arrivals ON public.transactions USING btree (created_at) WHERE is_suspicious;
CREATE INDEX ix_user_daily_totals_user_id ON public.user_daily_totals USING btree (user_id, day);
CREATE INDEX ix_user_monthly_totals_user_id ON public.user_monthly_totals USING btree (user_id);
CREATE INDEX ix_web_sessions_open ON public.web_sessions USING btree (account_id) WHERE (ended_at IS NULL);
CREATE TRIGGER payment_changes_deleted AFTER DELETE ON public.transactions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.note_payment_changes();
CREATE TRIGGER payment_changes_inserted AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.note_payment_changes();
CREATE TRIGGER payment_changes_truncated AFTER TRUNCATE ON public.transactions FOR EACH STATEMENT EXECUTE FUNCTION public.note_payment_changes();
CREATE TRIGGER payment_changes_updated AFTER UPDATE ON public.transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.note_payment_changes();
CREATE TRIGGER transactions_touch_modified_at BEFORE UPDATE ON public.transactions FOR EACH ROW EXECUTE FUNCTION public.transactions_touch_modified_at();
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT fk_api_tokens_account_id_accounts FOREIGN KEY (account_id) REFERENCES public.accounts(account_id) ON DELETE CASCADE;
ALTER TABLE ONLY public.import_flags
    ADD CONSTRAINT fk_import_flags_import_id_imports FOREIGN KEY (import_id) REFERENCES public.imports(import_id) ON DELETE CASCADE;
ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT fk_transactions_currency_code_currencies FOREIGN KEY (currency_code) REFERENCES public.currencies(numeric_code);
ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT fk_transactions_receiver_id_users FOREIGN KEY (receiver_id) REFERENCES public.users(user_id);
ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT fk_transactions_sender_id_users FOREIGN KEY (sender_id) REFERENCES public.users(user_id);
ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT fk_web_sessions_account_id_accounts FOREIGN KEY (account_id) REFERENCES public.accounts(account_id) ON DELETE CASCADE;
