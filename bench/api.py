"""The API at 10 million payments: the database time of each endpoint, as a client of the app would meet it.

Loads the payments as bench/dashboard.py does (or measures on a database it kept: `--database NAME`), adds 500
imports and 200,000 refused messages, then calls every endpoint through the app (Flask's test client, so that
the figures are the app's and the database's, not the network's), without and with filters. For each: the time
spent in PostgreSQL (every statement of the request, timed at the driver) and the whole request, median of
`--runs`, in ms. The goal: the first page of a user's payments over a month, and every report, under 50 ms of
database time.

Run: .venv/bin/python bench/api.py [--rows 10000000] [--database NAME] [--keep]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

from dashboard import END, USERS, load  # the same payments as the dashboards' benchmark
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from payments_core.db.connect import make_engine
from platform_ops.setup import migrate_and_seed

MONTH = {"from": (END - timedelta(days=30)).date().isoformat(), "to": END.date().isoformat()}
USER = USERS[7].username
# (label, path, parameters, held to the 50 ms goal)
CALLS = [
    ("payments: a user's month, first page", "/api/v1/payments", {"user": USER, **MONTH}, True),
    ("payments: a user, all time, first page", "/api/v1/payments", {"user": USER}, True),
    ("payments: a user, 20th page", "/api/v1/payments", {"user": USER, "page": 20}, True),
    ("payments: a user's failed EUR", "/api/v1/payments", {"user": USER, "status": "failed", "currency": "EUR"},
     True),
    ("payments: pending, oldest dates first", "/api/v1/reports/pending-beyond-sla", {}, True),
    ("payments: suspicious, a month", "/api/v1/reports/suspicious", MONTH, True),
    ("payments: no filter", "/api/v1/payments", {}, False),
    ("payments: one month, no user", "/api/v1/payments", MONTH, False),
    ("payment and its history", "payment", {}, True),
    ("user summary: a month", f"/api/v1/users/{USER}/summary", MONTH, True),
    ("user summary: all time", f"/api/v1/users/{USER}/summary", {}, True),
    ("report: daily", "/api/v1/reports/daily", {"date": MONTH["from"]}, True),
    ("report: failed, 30 days", "/api/v1/reports/failed", MONTH, True),
    ("report: failed, a year", "/api/v1/reports/failed",
     {"from": (END - timedelta(days=365)).date().isoformat(), "to": MONTH["to"]}, True),
    ("imports", "/api/v1/imports", {}, True),
    ("rejected events", "/api/v1/rejected-events", {}, True),
    ("rejected events: a common reason", "/api/v1/rejected-events", {"reason": "unknown_user"}, True),
    ("rejected events: a rare reason", "/api/v1/rejected-events", {"reason": "key_mismatch"}, True),
]


SIDE_TABLES = [
    # 500 imports of 1,000 rows each, over the two years.
    """INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, uploaded_at, rows_read, rows_unique,
                            rows_duplicate, rows_suspicious, rows_malformed, rows_published, status)
       SELECT gen_random_uuid(), 'file_' || g || '.csv', md5(g::text) || md5(g::text), 'k' || g, 100000,
              now() - g * interval '1 day' * 1.4, 1000, 990, 10, 30, 0, 990, 'published'
       FROM generate_series(1, 500) AS g""",
    # 200,000 refused messages: a third for an unknown user, one in a thousand for a key that does not match.
    """INSERT INTO rejected_events (topic, partition, "offset", payload, payload_size, reasons, message_timestamp)
       SELECT 'payments-events', g % 6, g, convert_to('{"amount": -1}', 'UTF8'), 14,
              CAST(CASE WHEN g % 1000 = 0 THEN '[{"field": "", "code": "key_mismatch", "message": "key"}]'
                        WHEN g % 3 = 0 THEN '[{"field": "sender_id", "code": "unknown_user", "message": "who"}]'
                        ELSE '[{"field": "amount", "code": "greater_than", "message": "> 0"}]' END AS jsonb),
              now() - (200000 - g) * interval '1 second'
       FROM generate_series(1, 200000) AS g""",
]


def add_side_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        if conn.scalar(text("SELECT count(*) FROM imports")) == 0:
            for statement in SIDE_TABLES:
                conn.execute(text(statement))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE imports, rejected_events"))
    engine.dispose()


class DatabaseClock:
    """Sums the time of every statement the engine runs."""

    def __init__(self, engine):
        self.spent = 0.0
        event.listen(engine, "before_cursor_execute", self._start)
        event.listen(engine, "after_cursor_execute", self._stop)

    def _start(self, conn, *_):
        conn.info["started"] = time.perf_counter()

    def _stop(self, conn, *_):
        self.spent += time.perf_counter() - conn.info.pop("started")


def measure(app, token: str, runs: int) -> None:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    clock = DatabaseClock(app.extensions["importer"].engine)
    some_payment = client.get("/api/v1/payments", query_string={"user": USER, "limit": 1}).json["payments"][0]
    print(f"database time and whole request per endpoint (median of {runs}, ms); goal: under 50 ms of database time")
    print(f"  {'endpoint':<42}{'database':>10}{'request':>10}{'items':>8}  goal")
    worst = 0.0
    for label, path, params, held in CALLS:
        params = dict(params)
        pages = params.pop("page", 1)
        if path == "payment":
            path = some_payment["href"]
        if pages > 1:  # the cursor of the page before the one measured
            link = f"{path}?user={USER}"
            for _ in range(pages - 1):
                link = client.get(link).json["next"]
            path, params = link, {}
        database, whole = [], []
        for _ in range(runs):
            clock.spent = 0.0
            started = time.perf_counter()
            answer = client.get(path, query_string=params or None)
            whole.append((time.perf_counter() - started) * 1000)
            database.append(clock.spent * 1000)
            assert answer.status_code == 200, (label, answer.text)
        body = answer.json
        items = max((len(v) for v in body.values() if isinstance(v, list)), default=1)
        ms = statistics.median(database)
        if held:
            worst = max(worst, ms)
        print(f"  {label:<42}{ms:>10.1f}{statistics.median(whole):>10.1f}{items:>8}  "
              f"{'under 50' if ms < 50 else 'OVER 50' if held else 'not held to it'}")
    print(f"  slowest held to the goal: {worst:.1f} ms = {worst / 50:.2f} of the 50 ms goal")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the loaded database in place")
    parser.add_argument("--database", help="measure on this database, loaded by an earlier --keep")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = args.database or f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    if not args.database:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name made here, not data
    database_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate_and_seed(database_url)  # brings a kept database to head too
        if not args.database:
            print(f"loading {args.rows:,} payments into {name}:")
            load(database_url, args.rows)
        add_side_tables(database_url)
        from csv_importer import create_app
        from csv_importer.settings import ImporterSettings
        from payments_api import tokens

        settings = ImporterSettings(database_url=database_url, s3_access_key="bench", s3_secret_key="bench",
                                    importer_secret_key="bench-secret-key-0123", api_requests_per_minute=10**6,
                                    importer_spool_dir=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-spool"),
                                    _env_file=None)
        app = create_app(settings)
        token = tokens.create(app.extensions["importer"].engine, f"bench-{uuid.uuid4().hex[:6]}", ["read"]).token
        measure(app, token, args.runs)
        app.extensions["importer"].engine.dispose()
    finally:
        if args.keep or args.database:
            print(f"kept the database {name}: measure again with --database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
