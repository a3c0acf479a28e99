"""Two batches written at once, on two connections, change the database as one writer writing them in the order
read would: a batch read later commits only after the one read before it, and when that one fails, after it is
written again. The import progress, which counts offsets in order, stays exact."""

import signal
import threading
import uuid

import pytest
from sqlalchemy import text

from tests.helpers.events import import_row, message, payment
from tests.helpers.kafka import produce
from tests.helpers.services import Ingest
from tests.helpers.waiting import wait_until

IMPORT_ID = str(uuid.uuid4())
ROWS = 400
WAITING = "waiting for the batch read before it to commit"


@pytest.fixture
def small_batches(ingestion_settings):
    return ingestion_settings.model_copy(update={"ingestion_batch_max_messages": 50})


@pytest.fixture
def locked_payment(small_batches, start_service, engine):
    """A stored pending payment, its row locked by another transaction, and the service started: the service
    reads the payment's next version, alone in its batch, and waits on the lock while writing it."""
    first = payment(status="pending")
    running = start_service(small_batches)
    produce(small_batches.kafka_bootstrap_servers, small_batches.payments_topic, [message(first)])
    wait_until(lambda: stored_status(engine, first["transaction_id"]) == "pending", message="the pending version")

    locked, release = threading.Event(), threading.Event()

    def hold():
        with engine.begin() as conn:
            conn.execute(text("SELECT 1 FROM transactions WHERE transaction_id = :id FOR UPDATE"),
                         {"id": first["transaction_id"]})
            locked.set()
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(10)
    produce(small_batches.kafka_bootstrap_servers, small_batches.payments_topic,
            [message({**first, "status": "completed"})])
    wait_until(lambda: waits_on_lock(engine), message="the completed version's batch waiting on the lock")
    yield running, first["transaction_id"], release
    release.set()
    holder.join(10)


def stored_status(engine, transaction_id):
    with engine.connect() as conn:
        return conn.scalar(text("SELECT status FROM transactions WHERE transaction_id = :id"), {"id": transaction_id})


def waits_on_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                     "'ingestion_writer' AND wait_event_type = 'Lock'")))


def send_import(settings) -> list[str]:
    rows = [import_row(line=line, import_id=IMPORT_ID, amount=f"{line}.00") for line in range(2, ROWS + 2)]
    produce(settings.kafka_bootstrap_servers, settings.imports_topic, [message(r) for r in rows])
    return [r["transaction_id"] for r in rows]


def import_outcome(engine) -> tuple[int, int]:
    """(rows of the import stored, rows the import's progress counts as saved)."""
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT count(*) FROM transactions WHERE import_id = :id"), {"id": IMPORT_ID})
        saved = conn.scalar(text("SELECT coalesce(sum(rows_saved), 0) FROM import_progress WHERE import_id = :id"),
                            {"id": IMPORT_ID})
    return stored, saved


def writers_in_a_transaction(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ingestion_writer' "
                                "AND xact_start IS NOT NULL"))


def a_writer_waits_for_its_turn(running) -> bool:
    return any(sink.doing and sink.doing[0] == WAITING for sink in running.service.sinks)


def test_a_batch_read_later_commits_only_after_the_one_read_before_it(small_batches, locked_payment, engine):
    running, transaction_id, release = locked_payment

    send_import(small_batches)

    # The next batch is written meanwhile, on the other connection, and waits for its turn to commit.
    wait_until(lambda: a_writer_waits_for_its_turn(running), message="a later batch written and waiting")
    threading.Event().wait(1.0)
    assert import_outcome(engine) == (0, 0)
    assert stored_status(engine, transaction_id) == "pending"

    release.set()
    wait_until(lambda: import_outcome(engine) == (ROWS, ROWS), message="every import row stored and counted once")
    assert stored_status(engine, transaction_id) == "completed"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM rejected_events")) == 0
        assert conn.scalar(text("SELECT count(*) FROM superseded_events")) == 0


def test_when_the_batch_read_before_fails_the_later_one_waits_for_it_to_be_written_again(
        small_batches, locked_payment, engine):
    running, transaction_id, release = locked_payment
    send_import(small_batches)
    wait_until(lambda: a_writer_waits_for_its_turn(running), message="a later batch written and waiting")

    # The connection writing the earlier batch is cut: that batch fails, and the one waiting behind it with it.
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                          "'ingestion_writer' AND wait_event_type = 'Lock'"))
    threading.Event().wait(1.0)
    assert import_outcome(engine) == (0, 0)
    release.set()

    wait_until(lambda: import_outcome(engine) == (ROWS, ROWS), timeout=60,
               message="every import row stored and counted once")
    assert stored_status(engine, transaction_id) == "completed"
    threading.Event().wait(1.0)  # anything counted twice would show now
    assert import_outcome(engine) == (ROWS, ROWS)
    metric = running.service.metrics.registry.get_sample_value
    topics = (small_batches.payments_topic, small_batches.imports_topic)
    assert [metric("payments_ingest_messages_consumed_total", {"topic": t}) for t in topics] == [2, ROWS]
    assert [metric("payments_ingest_rows_upserted_total", {"topic": t}) for t in topics] == [2, ROWS]


def test_kill_9_while_batches_are_written_at_once_then_restart_stores_and_counts_every_import_row_once(
        ingestion_settings, engine, tmp_path):
    rows = 200_000
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.imports_topic,
            [message(import_row(line=line, import_id=IMPORT_ID)) for line in range(2, rows + 2)])
    first = Ingest(ingestion_settings, tmp_path, name="first")
    try:
        wait_until(lambda: import_outcome(engine)[0] >= 20_000 and writers_in_a_transaction(engine) == 2,
                   timeout=120, interval=0.01, message="20,000 rows, and two batches being written")
        first.process.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = import_outcome(engine)
    finally:
        first.kill()
    assert at_kill[0] < rows, "killed in the middle"
    assert at_kill[0] == at_kill[1], "what was committed was counted, and only that"

    second = Ingest(ingestion_settings, tmp_path, name="second")
    try:
        wait_until(lambda: import_outcome(engine)[0] >= rows, timeout=180, message=f"{rows:,} rows")
    finally:
        second.signal(signal.SIGTERM)
        second.wait()
    assert import_outcome(engine) == (rows, rows)
