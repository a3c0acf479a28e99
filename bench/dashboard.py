"""The dashboards at 10 million payments: each question's database time, and the built-in dashboard under 50
concurrent clients.

1. Loads `--rows` payments (default 10,000,000) with COPY: 300 users, two years, six currencies, statuses
   completed/pending/failed 80/12/8 %, amounts spread so that about 3 % are above the suspicious threshold.
   The statement triggers log the rows, and one refresh adds them to the totals, as the ingestion service would.
2. EXPLAIN ANALYZE of every question (the SQL Metabase runs too), without and with each filter: the median of
   three runs, in ms.
3. Starts the importer web app (as `payments importer` serves it) and runs `--clients` signed-in clients for
   `--seconds` against the dashboard page, its JSON and a user page, without and with each filter: p50, p95, max
   and errors per endpoint.

Uses a fresh database on the PostgreSQL of BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
and starts a Tansu broker and an S3 stand-in that the app needs to start.
Run: .venv/bin/python bench/dashboard.py [--rows 10000000] [--clients 50] [--seconds 60]
Loading takes about 10 minutes: `--keep` leaves the database in place and says its name, and `--database NAME`
measures again on it without loading.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from csv_importer import accounts
from dashboards.questions import load_dashboard, load_question, render
from payments_core.db.connect import make_engine
from payments_core.db.seed import seed_users
from payments_core.totals import refresh_totals
from platform_ops.servers import free_port, start_moto, start_process, start_tansu
from platform_ops.setup import migrate_and_seed

USERS = seed_users()
CURRENCIES = {"USD": 840, "EUR": 978, "GBP": 826, "JPY": 392, "CHF": 756, "CAD": 124}
STATUSES = ["completed"] * 80 + ["pending"] * 12 + ["failed"] * 8
END = datetime(2026, 11, 21, tzinfo=UTC)
START = END - timedelta(days=730)
PASSWORD = "bench-viewer-password"
# The filters a person would set: none, each alone, and all of them.
FILTERS = {
    "none": {},
    "last 30 days": {"date_from": (END - timedelta(days=30)).date().isoformat()},
    "one month": {"date_from": "2026-03-01", "date_to": "2026-03-31"},
    "a cut range": {"date_from": "2025-06-12", "date_to": "2026-02-09"},
    "username": {"username": USERS[7].username},
    "currency": {"currency": "EUR"},
    "status": {"status": "failed"},
    "all": {"date_from": "2025-06-12", "date_to": "2026-02-09", "username": USERS[7].username, "currency": "EUR",
            "status": "completed"},
}


def load(database_url: str, rows: int, chunk: int = 500_000) -> None:
    rng = random.Random(14)
    ids = [str(u.user_id) for u in USERS]
    codes = list(CURRENCIES.values())
    span = int((END - START).total_seconds())
    engine = make_engine(database_url)
    started = time.perf_counter()
    with engine.raw_connection().driver_connection as conn:
        for first in range(0, rows, chunk):
            buffer = io.StringIO()
            for _ in range(min(chunk, rows - first)):
                sender, receiver = rng.sample(ids, 2)
                # Mostly small payments, a long tail: about 3 % above 8000.
                amount = round(min(rng.lognormvariate(6.0, 1.6), 99_999_999), 2) + 0.01
                when = START + timedelta(seconds=rng.randrange(span))
                buffer.write(f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{sender}\t{receiver}\t{amount:.2f}\t"
                             f"{rng.choice(codes)}\t{when.isoformat()}\t{rng.choice(STATUSES)}\t"
                             f"{'t' if amount > 8000 else 'f'}\tgenerator\n")
            buffer.seek(0)
            with conn.cursor() as cursor:
                cursor.copy_expert("COPY transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                                   "transaction_date, status, is_suspicious, source) FROM STDIN", buffer)
            conn.commit()
            done = first + min(chunk, rows - first)
            print(f"\r  loaded {done:,} rows ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    print()
    started = time.perf_counter()
    with engine.begin() as conn:
        cells = refresh_totals(conn)
    print(f"  totals computed ({cells:,} cells of day, user, currency and status) in "
          f"{time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        sizes = conn.execute(text(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class WHERE relname IN "
            "('transactions', 'daily_totals', 'user_daily_totals', 'user_monthly_totals') ORDER BY relname")).all()
    print("  sizes: " + ", ".join(f"{name} {size}" for name, size in sizes))
    engine.dispose()


def database_times(database_url: str) -> None:
    dashboard = load_dashboard()
    questions = {name: q.sql for name, q in dashboard.questions.items()}
    questions |= {name: load_question(name).sql for name in ("user_activity", "user_history")}
    engine = make_engine(database_url)
    print("database time per question (EXPLAIN ANALYZE, median of 3, ms); goal: each under 50, the live "
          "suspicious table under 10")
    print(f"  {'question':<20}" + "".join(f"{label:>14}" for label in FILTERS))
    worst = 0.0
    with engine.connect() as conn:
        for name, sql in questions.items():
            tags = dashboard.questions[name].tags if name in dashboard.questions else ["username"]
            cells = []
            for filters in FILTERS.values():
                given = {k: v for k, v in filters.items() if k in tags}
                if name.startswith("user_"):
                    given = {"username": FILTERS["username"]["username"]}
                given = {k: date.fromisoformat(v) if k.startswith("date_") else v for k, v in given.items()}
                runs = []
                for _ in range(3):
                    plan = conn.execute(render("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, given)).scalar_one()
                    runs.append(plan[0]["Execution Time"] + plan[0]["Planning Time"])
                cells.append(statistics.median(runs))
            worst = max(worst, *cells)
            print(f"  {name:<20}" + "".join(f"{ms:>14.1f}" for ms in cells))
    print(f"  slowest: {worst:.1f} ms = {worst / 50:.2f} of the 50 ms goal")
    engine.dispose()


class Client:
    """A signed-in browser: its own session cookie and a persistent connection."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with opener.open(f"http://{host}:{port}/login", timeout=30) as page:
            token = page.read().decode().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = urllib.parse.urlencode({"csrf_token": token, "username": "viewer", "password": PASSWORD}).encode()
        with opener.open(f"http://{host}:{port}/login", data=form, timeout=30) as page:
            page.read()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        self.connection = http.client.HTTPConnection(host, port, timeout=120)

    def get(self, path: str) -> int:
        try:
            self.connection.request("GET", path, headers={"Cookie": self.cookie})
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            return 0


def load_test(port: int, clients: int, seconds: float) -> None:
    endpoints = {}
    for label, filters in FILTERS.items():
        query = ("?" + urllib.parse.urlencode(filters)) if filters else ""
        endpoints[f"page, {label}"] = f"/dashboard{query}"
        endpoints[f"live table JSON, {label}"] = f"/dashboard/suspicious{query}"
        endpoints[f"top senders JSON, {label}"] = f"/dashboard/questions/top_senders{query}"
    endpoints["user page"] = f"/dashboard/users/{USERS[7].username}"
    endpoints["user page, another"] = f"/dashboard/users/{USERS[8].username}"
    names = list(endpoints)
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    people = [Client("127.0.0.1", port) for _ in range(clients)]

    def person(client: Client, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            name = rng.choice(names)
            started = time.perf_counter()
            status = client.get(endpoints[name])
            elapsed = time.perf_counter() - started
            with lock:
                timings[name].append(elapsed)
                if status != 200:
                    errors[name] += 1

    threads = [threading.Thread(target=person, args=(client, n)) for n, client in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(len(t) for t in timings.values())
    print(f"{clients} clients for {seconds:.0f} s: {total:,} requests ({total / seconds:,.0f}/s), "
          f"{sum(errors.values())} errors; ms per endpoint (goal: p95 of a page under 300)")
    print(f"  {'endpoint':<34}{'requests':>9}{'p50':>9}{'p95':>9}{'max':>9}{'errors':>8}")
    worst = 0.0
    for name in names:
        found = sorted(timings[name])
        if not found:
            continue
        p95 = found[int(0.95 * (len(found) - 1))] * 1000
        if name.startswith("page"):
            worst = max(worst, p95)
        print(f"  {name:<34}{len(found):>9}{statistics.median(found) * 1000:>9.1f}{p95:>9.1f}"
              f"{found[-1] * 1000:>9.1f}{errors[name]:>8}")
    print(f"  slowest page p95: {worst:.0f} ms = {worst / 300:.2f} of the 300 ms goal")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="leave the loaded database in place")
    parser.add_argument("--load-only", action="store_true", help="load, then stop (with --keep)")
    parser.add_argument("--database", help="measure on this database, loaded by an earlier --keep")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = args.database or f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    if not args.database:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name made here, not data
    database_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    broker = start_tansu("127.0.0.1", free_port(), folder / "logs")
    s3 = start_moto("127.0.0.1", free_port(), folder / "logs")
    app = None
    try:
        if not args.database:
            migrate_and_seed(database_url)
            print(f"loading {args.rows:,} payments into {name}:")
            load(database_url, args.rows)
            if args.load_only:
                return
        database_times(database_url)
        engine = make_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM accounts WHERE username = 'viewer'"))
        accounts.add(engine, "viewer", PASSWORD, "viewer")
        engine.dispose()
        port = free_port()
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.address, "DATABASE_URL": database_url,
               "S3_ENDPOINT_URL": s3.address, "S3_ACCESS_KEY": "bench", "S3_SECRET_KEY": "bench",
               "IMPORTER_PORT": str(port), "IMPORTER_SECRET_KEY": "bench-secret-key-0123"}
        app = start_process("importer", [str(Path(sys.executable).parent / "payments"), "importer"],
                            f"127.0.0.1:{port}", folder / "logs", env=env, timeout=60,
                            ready=lambda: answers(f"http://127.0.0.1:{port}/health"))
        load_test(port, args.clients, args.seconds)
    finally:
        if app:
            app.stop()
        broker.stop()
        s3.stop()
        if args.keep:
            print(f"kept the database {name}: measure again with --database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
