"""`payments ingest` as a process: stopping cleanly, surviving kill -9, sharing partitions, metrics over HTTP."""

import json
import signal
import urllib.request
import uuid
from decimal import Decimal

from sqlalchemy import func, select, text

from payments_core.db.models import Transaction
from platform_ops.servers import free_port
from tests.helpers.events import USERS, message, payment
from tests.helpers.kafka import produce
from tests.helpers.services import Ingest
from tests.helpers.waiting import wait_until


def transactions(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Transaction))


def varied_payments(n: int) -> list[dict]:
    """n payments between different seed users, amounts and statuses, each with its own id."""
    return [
        payment(sender_id=str(USERS[i % 300].user_id), receiver_id=str(USERS[(i + 1) % 300].user_id),
                amount=f"{(i % 900_000) + 1}.{i % 100:02d}", status=("pending", "completed", "failed")[i % 3])
        for i in range(n)
    ]


def test_sigterm_finishes_the_batch_commits_and_exits_0(ingestion_settings, engine, tmp_path):
    events = varied_payments(2000)
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
            [message(e) for e in events])
    ingest = Ingest(ingestion_settings, tmp_path)
    try:
        wait_until(lambda: transactions(engine) > 0, message="a first batch")
        ingest.signal(signal.SIGTERM)
        status = ingest.wait()
    finally:
        ingest.kill()

    assert status == 0, ingest.log()
    assert "stopped" in ingest.log()
    with engine.connect() as conn:
        written = conn.scalar(select(func.count()).select_from(Transaction))
    # What it wrote it also committed: a second run reads only the rest and ends with every payment once.
    again = Ingest(ingestion_settings, tmp_path, name="again")
    try:
        wait_until(lambda: transactions(engine) == len(events), message="every payment")
    finally:
        again.signal(signal.SIGTERM)
        again.wait()
    assert written > 0


def test_kill_9_in_the_middle_of_50000_events_then_restart_gives_exactly_50000_right_rows(
    ingestion_settings, engine, tmp_path
):
    events = varied_payments(50_000)
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
            [message(e) for e in events])
    first = Ingest(ingestion_settings, tmp_path, name="first")
    try:
        wait_until(lambda: transactions(engine) >= 10_000, timeout=120, message="10,000 rows")
        first.process.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = transactions(engine)
    finally:
        first.kill()
    assert at_kill < 50_000, "killed in the middle"

    second = Ingest(ingestion_settings, tmp_path, name="second")
    try:
        wait_until(lambda: transactions(engine) >= 50_000, timeout=180, message="50,000 rows")
    finally:
        second.signal(signal.SIGTERM)
        second.wait()

    with engine.connect() as conn:
        stored = {str(r.transaction_id): (r.sender_id, r.receiver_id, r.amount, r.status)
                  for r in conn.execute(select(Transaction))}
    expected = {e["transaction_id"]: (uuid.UUID(e["sender_id"]), uuid.UUID(e["receiver_id"]), Decimal(e["amount"]),
                                      e["status"]) for e in events}
    assert len(stored) == 50_000
    assert stored == expected


def test_two_instances_share_the_partitions_and_one_takes_over_when_the_other_dies(
    ingestion_settings, engine, tmp_path
):
    ports = free_port(), free_port()
    a = Ingest(ingestion_settings, tmp_path, name="a", http_port=ports[0])
    b = Ingest(ingestion_settings, tmp_path, name="b", http_port=ports[1])
    try:
        wait_until(lambda: all(_health(p).get("assigned_partitions", 0) > 0 for p in ports), timeout=60,
                   message="both instances owning partitions")
        first = varied_payments(3000)
        produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
                [message(e) for e in first])
        wait_until(lambda: transactions(engine) == 3000, timeout=60, message="3000 rows")
        shares = [_consumed(p) for p in ports]
        assert all(share > 0 for share in shares), f"each instance wrote part: {shares}"

        b.kill()
        wait_until(lambda: _health(ports[0]).get("assigned_partitions") == 6, timeout=60,
                   message="the survivor owning all 6 partitions")
        second = varied_payments(2000)
        produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
                [message(e) for e in second])
        wait_until(lambda: transactions(engine) == 5000, timeout=60, message="5000 rows")
    finally:
        for instance in (a, b):
            instance.kill()


def test_health_and_metrics_are_served_over_http(ingestion_settings, engine, tmp_path):
    port = free_port()
    ingest = Ingest(ingestion_settings, tmp_path, http_port=port)
    try:
        wait_until(lambda: _health(port).get("status") == "ok", message="healthy")
        produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
                [message(payment()), (b"k", b"not json")])
        # Refusals are counted when their batch is written, end-to-end times once it is committed: wait for both.
        wait_until(lambda: "payments_ingest_end_to_end_seconds_count 2.0" in _metrics(port),
                   message="both messages committed")
        # The payment is pending since July 2025: past the 15 minutes allowed, once the totals are refreshed.
        wait_until(lambda: "payments_pending_beyond_sla 1.0" in _metrics(port), message="the breach counted")
        metrics = _metrics(port)
    finally:
        ingest.signal(signal.SIGTERM)
        ingest.wait()

    assert f'payments_ingest_rows_upserted_total{{topic="{ingestion_settings.payments_topic}"}} 1.0' in metrics
    assert f'payments_ingest_messages_consumed_total{{topic="{ingestion_settings.payments_topic}"}} 2.0' in metrics
    topic = ingestion_settings.payments_topic
    assert f'payments_ingest_messages_rejected_total{{reason="not_json",topic="{topic}"}} 1.0' in metrics
    assert "payments_ingest_database_up 1.0" in metrics
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM rejected_events")) == 1


def _health(port) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        return json.load(e)
    except OSError:
        return {}


def _metrics(port) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def _consumed(port) -> float:
    total = 0.0
    for line in _metrics(port).splitlines():
        if line.startswith("payments_ingest_rows_upserted_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total
