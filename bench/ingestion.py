"""Ingestion speed: sustained events per second from Kafka to committed rows, against a plain COPY of the same
rows into the same table in the same run, for both topics; and end-to-end latency at a steady rate.

Throughput runs the real command, `payments ingest`, as 1 and as 2 processes in one consumer group (this machine
has 2 cores), and counts committed rows from the first batch committed to the last, in the processes' own logs.
Latency runs the service in this process, which sees each message's Kafka timestamp and the moment its batch
committed.

Starts a Tansu broker on a free port, and uses fresh databases on the PostgreSQL of BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/postgres), migrated and seeded.
Last, the refresh of the dashboards' totals after 1,000 new payments on a day of `--today` payments.
First, the CPU each stage costs per event (Kafka fetch, decode and validate, resolve, encode for COPY, PostgreSQL's
upsert, commit), one stage at a time over the same events; with the throughput, how busy each core was.
Run: .venv/bin/python bench/ingestion.py [--events 200000] [--rate 1000] [--seconds 20] [--today 500000]
     [--stages-only]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Producer
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ingestion_service.records import Row
from ingestion_service.service import IngestionService
from ingestion_service.settings import IngestionSettings
from ingestion_service.sink import copy_into
from payments_core.db.connect import libpq_dsn, make_engine
from payments_core.db.seed import seed_users
from payments_core.kafka import ensure_topics
from payments_core.process import collect_garbage_for_a_stream
from platform_ops.servers import free_port, start_tansu
from platform_ops.setup import migrate_and_seed

USERS = seed_users()
BATCH_LINE = re.compile(r"batch messages=\d+ upserted=(\d+) ")
STATUSES = ("pending", "completed", "failed")
CURRENCIES = {"USD": 840, "EUR": 978, "GBP": 826, "JPY": 392}


def payment_events(n: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    messages = []
    for _ in range(n):
        sender, receiver = rng.sample(USERS, 2)
        tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        messages.append((tid.encode(), json.dumps({
            "transaction_id": tid, "sender_id": str(sender.user_id), "receiver_id": str(receiver.user_id),
            "amount": rng.randint(100, 1_200_000) / 100, "currency_code": rng.choice(list(CURRENCIES.values())),
            "timestamp": datetime.now(UTC).isoformat(), "status": rng.choice(STATUSES),
        }).encode()))
    return messages


def import_events(n: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    import_id = str(uuid.uuid4())
    messages = []
    for line in range(2, n + 2):
        sender, receiver = rng.sample(USERS, 2)
        tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        amount = rng.randint(100, 1_200_000) / 100
        messages.append((tid.encode(), json.dumps({
            "username_sender": sender.username, "username_receiver": receiver.username, "amount": f"{amount:.2f}",
            "currency": rng.choice(list(CURRENCIES)), "transaction_date": "2025-07-07 01:42:05 UTC",
            "status": rng.choice(STATUSES), "transaction_id": tid, "import_id": import_id,
            "source_file": "bench.csv", "line_number": line, "is_suspicious": amount > 8000,
        }).encode()))
    return messages


def produce(bootstrap: str, topic: str, messages) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
                         "queue.buffering.max.messages": 1_000_000})
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(120) == 0


class Database:
    """Fresh databases on the benchmark's server, dropped at the end."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def fresh(self) -> str:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name made here, not data
        self.names.append(name)
        url = make_url(self.server_url).set(database=name).render_as_string(hide_password=False)
        migrate_and_seed(url)
        return url

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def settings_for(bootstrap: str, database_url: str, **changes) -> IngestionSettings:
    tag = uuid.uuid4().hex[:8]
    return IngestionSettings(
        kafka_bootstrap_servers=bootstrap, database_url=database_url, payments_topic=f"payments-{tag}",
        imports_topic=f"imports-{tag}", dlq_topic=f"dlq-{tag}", ingestion_group_id=f"bench-{tag}",
        ingestion_session_timeout_ms=2000, ingestion_http_port=0, _env_file=None, **changes,
    )


def ingest(settings: IngestionSettings, expected: int, on_batch=None, timeout: float = 600) -> dict:
    """Run the service until `expected` messages are committed; timings from the first read to the last commit."""
    state = {"messages": 0, "first_read": None, "last_commit": None, "rows": []}
    done = threading.Event()

    def committed(batch, committed_at):
        state["first_read"] = state["first_read"] or batch.read_at
        state["messages"] += len(batch.sources)
        state["last_commit"] = time.monotonic()
        if on_batch:
            on_batch(batch, committed_at)
        if state["messages"] >= expected:
            done.set()

    service = IngestionService(settings, on_committed=committed)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    finished = done.wait(timeout)
    stop.set()
    thread.join(60)
    if not finished:
        raise SystemExit(f"only {state['messages']} of {expected} messages committed within {timeout:.0f} s")
    state["seconds"] = state["last_commit"] - state["first_read"]
    return state


def copy_rate(database_url: str, rows: list[Row]) -> float:
    """Rows per second of one plain COPY of `rows` into `transactions` (same table, indexes and foreign keys)."""
    import psycopg2

    dsn = libpq_dsn(database_url)
    data = "".join(r.copy_line() for r in rows)
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.copy_expert(copy_into("transactions"), io.StringIO(data))
            connection.commit()
            return len(rows) / (time.perf_counter() - start)
    finally:
        connection.close()


def rows_of(database_url: str) -> list[Row]:
    """The rows as the service wrote them, to COPY the very same data."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        result = conn.execute(text(
            "SELECT transaction_id, sender_id, receiver_id, amount, currency_code, transaction_date, status, "
            "is_suspicious, source, import_id, import_line, topic, partition, \"offset\" FROM transactions"))
        rows = [Row(*r) for r in result]
    engine.dispose()
    return rows


def ingest_processes(settings: IngestionSettings, expected: int, instances: int, timeout: float = 600) -> float:
    """Events per second of `instances` `payments ingest` processes, from the first committed batch to the last.

    Read from the processes' own log, where each batch's line is written once it has committed (LOG_FORMAT=json,
    times to the millisecond): counting the table's rows every 50 ms, as this did before, took a tenth of a core
    from the run it measured, and the runs with two instances have none to spare."""
    env = {**os.environ, **{name.upper(): str(value) for name, value in settings.model_dump().items()},
           "LOG_FORMAT": "json"}
    with tempfile.TemporaryDirectory() as logs:
        paths = [Path(logs, f"ingest-{i}.log") for i in range(instances)]
        processes = []
        for path in paths:
            with path.open("wb") as log:
                processes.append(subprocess.Popen([sys.executable, "-m", "platform_ops.cli", "ingest"], env=env,
                                                  stdout=subprocess.DEVNULL, stderr=log))
        engine = make_engine(settings.database_url)
        deadline, stored = time.monotonic() + timeout, 0
        try:
            while time.monotonic() < deadline:
                commits = sorted(commit for path in paths for commit in committed_batches(path))
                # A batch written again after a rebalance is logged again: the table says when all are in.
                if sum(rows for _, rows in commits) >= expected:
                    with engine.connect() as conn:
                        stored = conn.scalar(text("SELECT count(*) FROM transactions"))
                    if stored >= expected:
                        (first, first_rows), (last, _) = commits[0], commits[-1]
                        return (stored - first_rows) / (last - first).total_seconds()
                time.sleep(0.1)
            raise SystemExit(f"only {stored} of {expected} rows within {timeout:.0f} s")
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)
            engine.dispose()


def committed_batches(log: Path) -> list[tuple[datetime, int]]:
    """When each batch in a `payments ingest` JSON log committed, and how many rows it upserted."""
    found = []
    for line in log.read_bytes().decode(errors="replace").splitlines(keepends=True):
        if not (line.startswith("{") and line.endswith("\n")):  # the line being written, or not the log's own
            continue
        entry = json.loads(line)
        if entry["logger"] == "ingestion_service.service" and (rows := BATCH_LINE.match(entry["message"])):
            found.append((datetime.fromisoformat(entry["time"]), int(rows[1])))
    return found


def throughput(bootstrap: str, databases: Database, topic_kind: str, n: int, instances: int) -> None:
    rng = random.Random(11)
    url = databases.fresh()
    settings = settings_for(bootstrap, url)
    topic = settings.payments_topic if topic_kind == "payments" else settings.imports_topic
    ensure_topics(bootstrap, [settings.payments_topic, settings.imports_topic, settings.dlq_topic], 6)
    messages = payment_events(n, rng) if topic_kind == "payments" else import_events(n, rng)
    produce(bootstrap, topic, messages)
    ingest_rate = core_use(lambda: ingest_processes(settings, n, instances))
    copied = copy_rate(databases.fresh(), rows_of(url))
    print(f"{topic_kind:<9} {n:>9,} events  {instances} instance{'s' if instances > 1 else ' '}  "
          f"ingestion {ingest_rate:>8,.0f} events/s   plain COPY {copied:>8,.0f} rows/s   "
          f"ingestion/COPY {ingest_rate / copied:.2f}")


def backend_cpu_s(connection) -> float:
    """CPU seconds the PostgreSQL backend of `connection` has used (utime + stime of its process; the server is
    on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stages(bootstrap: str, databases: Database, topic_kind: str, n: int, batch: int = 5000) -> None:
    """The CPU each stage of ingestion costs per event, run one stage at a time over the same n events, in batches
    of `batch` as the service writes them: where the time goes, for the next person who makes it faster."""
    import psycopg2
    from confluent_kafka import Consumer

    from ingestion_service.lookups import Lookups
    from ingestion_service.parse import Parser
    from ingestion_service.records import Source
    from ingestion_service.resolve import Resolver
    from ingestion_service.sink import COPY_INTO_STAGING, STAGING, UPSERT_FROM_STAGING
    from payments_core.settings import SuspiciousThreshold

    settings = settings_for(bootstrap, databases.fresh())
    topic = settings.payments_topic if topic_kind == "payments" else settings.imports_topic
    ensure_topics(bootstrap, [topic], 6)
    rng = random.Random(11)
    produce(bootstrap, topic, payment_events(n, rng) if topic_kind == "payments" else import_events(n, rng))
    cost: dict[str, float] = {}

    def timed(stage: str, clock=time.process_time):
        started = clock()
        return lambda: cost.__setitem__(stage, cost.get(stage, 0.0) + clock() - started)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"stages-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 2000, "fetch.max.bytes": 52_428_800})
    consumer.subscribe([topic])
    messages, done = [], None
    deadline = time.monotonic() + 120
    while len(messages) < n and time.monotonic() < deadline:
        if done is None and consumer.assignment():  # joined: the group join is not counted, the fetching is
            done = timed("Kafka fetch")
        messages += [m for m in consumer.consume(10_000, 0.5) if not m.error()]
    done()
    parser = Parser(settings)
    dsn = libpq_dsn(settings.database_url)
    connection = psycopg2.connect(dsn)
    with connection.cursor() as cursor:
        cursor.execute(STAGING)
    connection.commit()
    lookups = Lookups(settings.database_url)
    resolver = Resolver(SuspiciousThreshold(_env_file=None).suspicious_amount_threshold, lookups)
    backend = 0.0
    # A batch at a time, as the service holds them: what is alive at once (and what the garbage collector walks)
    # is one batch, not every event.
    for start in range(0, len(messages), batch):
        sources_done = timed("message to Source")
        sources = [Source.of(m) for m in messages[start:start + batch]]
        sources_done()
        parse_done = timed("decode and validate")
        events = [parser.parse(source) for source in sources]
        parse_done()
        with connection.cursor() as cursor:
            resolve_done = timed("resolve (users, currencies)")
            rows = resolver.resolve(events).rows
            resolve_done()
            encode_done = timed("encode for COPY")
            data = "".join(row.copy_line() for row, _ in rows)
            encode_done()
            before = backend_cpu_s(connection)
            upsert_done, upsert_python = timed("PostgreSQL upsert (wall)", time.perf_counter), timed("upsert (client)")
            cursor.copy_expert(COPY_INTO_STAGING, io.StringIO(data), size=len(data) + 1)
            cursor.execute(UPSERT_FROM_STAGING)
            applied = {transaction_id for (transaction_id,) in cursor.fetchall()}
            upsert_done(), upsert_python()
        commit_done = timed("commit (wall)", time.perf_counter)
        connection.commit()
        commit_done()
        backend += backend_cpu_s(connection) - before
        assert len(applied) == len(rows), "fresh ids: every row inserted"
    cost["PostgreSQL upsert (server CPU)"] = backend
    connection.close()
    lookups.close()
    consumer.close()
    python = sum(v for k, v in cost.items() if "wall" not in k and "server" not in k)
    print(f"{topic_kind}: per event, {len(messages):,} events in batches of {batch:,}")
    for stage, seconds in cost.items():
        print(f"  {stage:<32} {seconds / len(messages) * 1e6:7.1f} µs")
    print(f"  {'Python in all (one core)':<32} {python / len(messages) * 1e6:7.1f} µs = "
          f"{len(messages) / python:,.0f} events/s at most, against PostgreSQL's "
          f"{len(messages) / backend:,.0f} rows/s of upsert CPU")


def core_use(run) -> float:
    """Run `run()`; returns what it returned, after printing how busy each core was meanwhile (from /proc/stat)."""
    def busy() -> list[tuple[int, int]]:
        found = []
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                ticks = list(map(int, line.split()[1:]))
                found.append((sum(ticks) - ticks[3] - ticks[4], sum(ticks)))  # all but idle and iowait
        return found

    before = busy()
    result = run()
    after = busy()
    shares = [(b1 - b0) / max(1, t1 - t0) for (b0, t0), (b1, t1) in zip(before, after, strict=True)]
    print("      cores busy meanwhile: " + ", ".join(f"{share:.0%}" for share in shares))
    return result


def latency(bootstrap: str, databases: Database, rate: int, seconds: int) -> None:
    settings = settings_for(bootstrap, databases.fresh())
    ensure_topics(bootstrap, [settings.payments_topic, settings.imports_topic, settings.dlq_topic], 6)
    total = rate * seconds
    samples: list[float] = []

    def measured(batch, committed_at):
        samples.extend((committed_at - s.timestamp).total_seconds() for s in batch.sources if s.timestamp)

    def steady_producer():
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
        rng = random.Random(5)
        start = time.monotonic()
        for i in range(total):
            wait = start + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            (key, value), = payment_events(1, rng)
            producer.produce(settings.payments_topic, key=key, value=value)
            producer.poll(0)
        producer.flush(30)

    # The producer starts once the service has joined its group and committed a first event: the latency
    # measured is the steady state, not the group join.
    producer_thread = threading.Thread(target=steady_producer, daemon=True)
    service_started = threading.Event()

    def start_producing(batch, committed_at):
        if not service_started.is_set():
            service_started.set()
            producer_thread.start()
        measured(batch, committed_at)

    produce(bootstrap, settings.payments_topic, payment_events(1, random.Random(1)))
    ingest(settings, total + 1, on_batch=start_producing, timeout=seconds * 4 + 120)
    samples = sorted(samples[1:])
    p50 = statistics.median(samples) * 1000
    p99 = samples[int(len(samples) * 0.99) - 1] * 1000
    print(f"latency at a steady {rate:,} events/s for {seconds} s ({len(samples):,} events): "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms (produced -> committed)")


def refresh_cost(databases: Database, today: int, more: int = 1000) -> None:
    """How long the dashboards' totals take to catch up with `more` new payments on a day that already has `today`:
    the ingestion service's refresher does this every TOTALS_REFRESH_SECONDS, and live payments are all dated
    today."""
    engine = make_engine(databases.fresh())
    add = text("""
        INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, transaction_date,
                                  status, is_suspicious, source)
        SELECT gen_random_uuid(), u.ids[1 + n % 150], u.ids[151 + n % 150], 1 + n % 9000, 978,
               now() - n % 3600 * interval '1 second', 'pending', false, 'generator'
        FROM generate_series(1, :n) AS n CROSS JOIN (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM users) u
    """)
    with engine.begin() as conn:
        conn.execute(add, {"n": today})
        conn.execute(text("SELECT refresh_payment_totals()"))
    timings = []
    for _ in range(5):
        with engine.begin() as conn:
            conn.execute(add, {"n": more})
        with engine.begin() as conn:
            started = time.perf_counter()
            conn.execute(text("SELECT refresh_payment_totals()"))
            timings.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    print(f"refresh of the totals after {more:,} new payments on a day of {today:,}: "
          f"{min(timings):.0f}-{max(timings):.0f} ms (5 times)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--today", type=int, default=500_000, help="payments already dated today, for the refresh")
    parser.add_argument("--stages-only", action="store_true", help="only the CPU of each stage, per event")
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    collect_garbage_for_a_stream()  # as `payments ingest` does: the stages and the latency run in this process
    broker = start_tansu("127.0.0.1", free_port(), Path(tempfile.mkdtemp()) / "logs")
    databases = Database(server)
    try:
        print(f"2 cores; Tansu broker, PostgreSQL at {make_url(server).host or 'socket'}; topics of 6 partitions")
        for kind in ("payments", "imports"):
            stages(broker.address, databases, kind, min(args.events, 100_000))
        if args.stages_only:
            return
        for kind in ("payments", "imports"):
            for instances in (1, 2):
                throughput(broker.address, databases, kind, args.events, instances)
        latency(broker.address, databases, args.rate, args.seconds)
        refresh_cost(databases, args.today)
    finally:
        databases.drop_all()
        broker.stop()


if __name__ == "__main__":
    main()
