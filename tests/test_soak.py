"""The whole platform for SOAK_SECONDS (default 600) with everything at once: the generator publishing with some
invalid events, CSV uploads (one row with a NUL byte each time), and poison messages by hand, into two
ingestion instances. Then every message of both topics is reconciled against the database: it is a row of
`transactions`, or it is recorded in `rejected_events`. Run with `make test PYTEST_ARGS="--soak -k soak"`."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from sqlalchemy import text

from payments_core.db.connect import make_engine
from tests.helpers.kafka import produce_records
from tests.helpers.waiting import wait_until

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
pytestmark = [pytest.mark.soak, pytest.mark.timeout(SECONDS + 600)]

SAMPLES = Path(__file__).resolve().parent.parent / "csvs"
POISON = [
    {"value": b'{"transaction_id": "\\u0000"}'},
    {"value": '{"status": "\ud800"}'.encode("utf-8", "surrogatepass")},
    {"value": b'{"a": 1, "a": 2}'},
    {"value": b"x" * 1_100_000},
    {"value": b"[" * 50_000},
    {"value": b'{"currency_code": 1e999999999}'},
    {"value": b"not json", "timestamp": 2**62, "headers": [("payments-source", None)]},
]


def read_everything(bootstrap, topic, idle=5.0) -> list:
    """Every message of `topic`, read until none has arrived for `idle` seconds (never trusting watermarks)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"soak-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 2000, "heartbeat.interval.ms": 500,
                         "fetch.message.max.bytes": 4_000_000})
    consumer.subscribe([topic])
    found, last = [], time.monotonic()
    try:
        while time.monotonic() - last < idle:
            batch = [m for m in consumer.consume(1000, 0.5) if not m.error()]
            if batch:
                found += [(m.partition(), m.offset(), m.value()) for m in batch]
                last = time.monotonic()
    finally:
        consumer.close()
    return found


def unaccounted(engine, topic, messages) -> list:
    with engine.connect() as conn:
        refused = set(conn.execute(text("SELECT partition, \"offset\" FROM rejected_events WHERE topic = :t"),
                                   {"t": topic}).all())
        stored = {str(i) for i in conn.scalars(text("SELECT transaction_id FROM transactions"))}
    missing = []
    for partition, offset, value in messages:
        if (partition, offset) in refused:
            continue
        try:
            if json.loads(value)["transaction_id"] in stored:
                continue
        except (ValueError, KeyError, TypeError):
            pass
        missing.append((partition, offset, value[:200]))
    return missing


def test_the_platform_under_everything_at_once_accounts_for_every_message(
    importer, importer_settings, start_service, tmp_path
):
    from ingestion_service.settings import IngestionSettings

    seconds = SECONDS
    s = importer_settings
    shared = {k: v for k, v in s.model_dump().items() if k in IngestionSettings.model_fields}
    ingest = IngestionSettings(**{**shared, "ingestion_group_id": f"soak-{uuid.uuid4().hex[:6]}",
                                  "ingestion_session_timeout_ms": 2000, "ingestion_http_port": 0}, _env_file=None)
    instances = [start_service(ingest), start_service(ingest)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_", "GENERATOR_"))}
    env.update({name.upper(): str(value) for name, value in shared.items()})
    with open(tmp_path / "generator.log", "wb") as log:
        generator = subprocess.Popen([sys.executable, "-m", "platform_ops.cli", "generate", "--rate", "200",
                                      "--invalid-ratio", "0.02"], env=env, stdout=log, stderr=subprocess.STDOUT)
    header, *rows = (SAMPLES / "huge_load_transactions.csv").read_bytes().splitlines(keepends=True)
    uploads = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for record in POISON:
                produce_records(s.kafka_bootstrap_servers, s.payments_topic, [record])
                produce_records(s.kafka_bootstrap_servers, s.imports_topic, [record])
            if uploads * 20 < seconds - (deadline - time.monotonic()):
                # 1,200 rows not sent before, with a NUL byte past the first 64 KB, where the importer passes it on.
                lines = [header, *rows[uploads * 1200:(uploads + 1) * 1200]]
                lines[1100] = lines[1100].replace(b",", b"\x00,", 1)
                response = importer.upload(b"".join(lines), f"soak-{uploads}.csv")
                assert response.status_code == 303, response.text[:300]
                importer.upload((SAMPLES / "suspicious_duplicated_transactions.csv").read_bytes(), "dup.csv")
                uploads += 1
            assert all(i.thread.is_alive() for i in instances), "an ingestion instance stopped"
            assert generator.poll() is None, (tmp_path / "generator.log").read_text()[-2000:]
            time.sleep(1)
    finally:
        generator.send_signal(signal.SIGTERM)
        generator.wait(60)

    engine = make_engine(s.database_url)
    try:
        for topic in (s.payments_topic, s.imports_topic):
            messages = read_everything(s.kafka_bootstrap_servers, topic)
            assert messages, topic
            wait_until(lambda t=topic, m=messages: not unaccounted(engine, t, m), timeout=180,
                       message=f"every message of {topic} a row or a refusal")
            print(f"soak: {topic}: {len(messages)} messages in {seconds:.0f} s, each a row or a refusal")
    finally:
        engine.dispose()
    assert all(i.thread.is_alive() for i in instances)
    assert all(i.service.metrics.health()[0] == 200 for i in instances)
