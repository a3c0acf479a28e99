"""Faults that meet: a rebalance while the service waits for PostgreSQL, a held lock while the group changes, a
process that stops making progress. Every produced payment is reconciled at the end: none missing, none wrong,
none refused, and every instance healthy again."""

import signal
import threading

import pytest

from ingestion_service.state import State
from ingestion_service.watchdog import WEDGED_EXIT_CODE
from payments_core.db.connect import make_engine
from platform_ops.servers import EmbeddedPostgres
from platform_ops.setup import migrate_and_seed
from tests.helpers.reconcile import Payments, healthy
from tests.helpers.services import Ingest
from tests.helpers.waiting import wait_until

# Both topics the service reads, 3 partitions each (the ingestion_settings fixture).
ALL_PARTITIONS = 6


@pytest.fixture
def own_postgres(tmp_path):
    """A PostgreSQL of the test's own, migrated and seeded, which the test may stop and start."""
    postgres = EmbeddedPostgres(tmp_path / "pg")
    url = postgres.url("payments")
    migrate_and_seed(url)
    engine = make_engine(url)
    yield postgres, url, engine
    engine.dispose()
    postgres.stop()


def test_an_instance_joining_while_the_database_is_down_wedges_nobody(ingestion_settings, start_service,
                                                                      own_postgres):
    postgres, url, engine = own_postgres
    s = ingestion_settings.model_copy(update={"database_url": url, "ingestion_stall_seconds": 5})
    payments = Payments(s)
    first = start_service(s)
    payments.send(200)
    payments.all_stored(engine)

    postgres.stop()
    engine.dispose()
    payments.send(200)
    wait_until(lambda: first.service.state is State.PAUSED_FOR_DATABASE, message="the first instance paused")
    status, body = first.service.metrics.health()
    assert status == 503 and any(p.startswith("paused for the database") for p in body["problems"]), body

    second = start_service(s)
    # The rebalance reaches the paused instance: it gives up what it held and the partitions it no longer owns.
    wait_until(lambda: second.service.metrics.assigned > 0, timeout=60, message="the second instance assigned")
    wait_until(lambda: first.service.metrics.assigned < ALL_PARTITIONS, message="the first instance's share reduced")

    postgres.start()
    payments.all_stored(engine)
    for running in (first, second):
        wait_until(lambda r=running: healthy(r), timeout=60, message="healthy again")
        assert running.service.state is State.RUNNING
        assert running.thread.is_alive() and not running.wedged

    payments.send(100)  # and both go on consuming
    payments.all_stored(engine)


def test_an_instance_killed_while_the_database_is_down_loses_nothing(ingestion_settings, start_service,
                                                                     own_postgres, tmp_path):
    postgres, url, engine = own_postgres
    s = ingestion_settings.model_copy(update={"database_url": url})
    payments = Payments(s)
    observed = start_service(s)
    other = Ingest(s, tmp_path, name="other")
    try:
        payments.send(300)
        payments.all_stored(engine)
        wait_until(lambda: 0 < observed.service.metrics.assigned < ALL_PARTITIONS, timeout=60,
                   message="the partitions shared")

        postgres.stop()
        engine.dispose()
        payments.send(300)
        wait_until(lambda: observed.service.state is State.PAUSED_FOR_DATABASE, message="paused")
        other.process.send_signal(signal.SIGKILL)
        other.wait()
        # The group gives the dead instance's partitions to the paused one, after the session timeout.
        wait_until(lambda: observed.service.metrics.assigned == ALL_PARTITIONS, timeout=60,
                   message="every partition taken over")

        postgres.start()
        payments.all_stored(engine)
        wait_until(lambda: healthy(observed), timeout=60, message="healthy again")
        assert observed.service.state is State.RUNNING
    finally:
        other.kill()


def hold_lock(engine, seconds: float) -> tuple[threading.Thread, threading.Event]:
    """LOCK TABLE transactions in another session, for up to `seconds` or until the returned event is set."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        with engine.begin() as conn:
            conn.exec_driver_sql("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(seconds)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(10), "the lock was not taken"
    return holder, release


def test_a_held_lock_and_a_rebalance_at_once_lose_nothing_and_health_names_the_wait(ingestion_settings,
                                                                                    start_service, engine):
    s = ingestion_settings.model_copy(update={"ingestion_stall_seconds": 5,
                                              "ingestion_statement_timeout_seconds": 2})
    payments = Payments(s)
    first = start_service(s)
    payments.send(100)
    payments.all_stored(engine)

    holder, release = hold_lock(engine, 60)
    try:
        payments.send(300)
        status, body = wait_until(lambda: (h := first.service.metrics.health())[0] == 503 and h, timeout=30,
                                  message="503 while the lock is held")
        assert body["messages_waiting"] > 0, body
        # The statement timeout ends each wait, and the log and /health say which step waited.
        wait_until(lambda: "while upserting into transactions" in first.service.metrics.state_reason,
                   timeout=30, message="the step that waited, named")
        second = start_service(s)
        wait_until(lambda: second.service.metrics.assigned > 0, timeout=60, message="the rebalance")
    finally:
        release.set()
        holder.join(10)

    payments.all_stored(engine)
    for running in (first, second):
        wait_until(lambda r=running: healthy(r), timeout=60, message="healthy again")
        assert not running.wedged


def test_the_watchdog_ends_a_process_that_commits_nothing_and_its_successor_loses_nothing(
    ingestion_settings, engine, tmp_path
):
    # A write that waits longer than the watchdog allows (the statement timeout is longer still): the loop is
    # running, holds work and commits nothing. (A pause that retries is not a wedge: see the next test.)
    s = ingestion_settings.model_copy(update={"ingestion_watchdog_seconds": 6,
                                              "ingestion_statement_timeout_seconds": 120})
    payments = Payments(s)
    first = Ingest(s, tmp_path, name="first")
    try:
        payments.send(50)
        payments.all_stored(engine)
        holder, release = hold_lock(engine, 120)
        try:
            payments.send(200)
            assert first.wait(timeout=90) == WEDGED_EXIT_CODE, first.log()
        finally:
            release.set()
            holder.join(10)
        assert "watchdog: nothing committed for" in first.log()
        assert "nothing is lost" in first.log()
    finally:
        first.kill()

    successor = Ingest(s, tmp_path, name="successor")
    try:
        payments.all_stored(engine)
    finally:
        successor.kill()


def test_the_watchdog_leaves_alone_a_pause_that_goes_on_retrying(ingestion_settings, start_service, engine):
    s = ingestion_settings.model_copy(update={"ingestion_watchdog_seconds": 4,
                                              "ingestion_statement_timeout_seconds": 1})
    payments = Payments(s)
    running = start_service(s)
    holder, release = hold_lock(engine, 60)
    try:
        payments.send(50)
        wait_until(lambda: running.service.state is State.PAUSED_FOR_DATABASE, message="paused, retrying")
        threading.Event().wait(10)  # well past the watchdog's limit
        assert not running.wedged, running.wedged
        assert running.service.metrics.stalled_for() > 4, "nothing committed meanwhile"
    finally:
        release.set()
        holder.join(10)
    payments.all_stored(engine)


def test_a_lock_held_while_the_service_opens_its_session_delays_it_only(ingestion_settings, start_service, engine):
    # Found by test_faults_meet.py: the session's staging table is made LIKE `transactions`, so a lock held on the
    # table cancelled its creation, and the session, reused without it, refused every batch that followed.
    s = ingestion_settings.model_copy(update={"ingestion_statement_timeout_seconds": 1})
    payments = Payments(s)
    holder, release = hold_lock(engine, 60)
    try:
        running = start_service(s)
        payments.send(100)
        wait_until(lambda: "could not prepare the session" in running.service.metrics.state_reason, timeout=30,
                   message="the wait named")
    finally:
        release.set()
        holder.join(10)
    payments.all_stored(engine)
    wait_until(lambda: healthy(running), timeout=60, message="healthy again")
