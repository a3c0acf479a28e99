"""Refusals, versions set aside and overruled flags older than their retention are deleted, in batches that never
hold a long lock; newer ones stay."""

from __future__ import annotations

import threading
import time

import psycopg2
from sqlalchemy import text

from ingestion_service.retention import apply_retention
from payments_core.db.connect import libpq_dsn
from tests.helpers.waiting import wait_until


def fill(engine, old: int, new: int) -> None:
    """`old` rows 100 days old and `new` rows 10 days old in each of the three tables."""
    with engine.begin() as conn:
        for count, days, part in ((old, 100, 0), (new, 10, 1)):
            given = {"n": count, "days": days, "part": part}
            conn.execute(text(
                'INSERT INTO rejected_events (topic, partition, "offset", payload, payload_size, reasons, rejected_at) '
                "SELECT 't', :part, g, 'x', 1, '[]', now() - make_interval(days => :days) "
                "FROM generate_series(1, :n) AS g"), given)
            conn.execute(text(
                "INSERT INTO superseded_events (transaction_id, reason, stored_status, stored_date, incoming_status, "
                'incoming_date, topic, partition, "offset", recorded_at) SELECT gen_random_uuid(), \'older\', '
                "'completed', now(), 'pending', now(), 't', :part, g, now() - make_interval(days => :days) "
                "FROM generate_series(1, :n) AS g"), given)
            conn.execute(text(
                "INSERT INTO overruled_flags (transaction_id, amount, said_suspicious, is_suspicious, topic, "
                'partition, "offset", recorded_at) SELECT gen_random_uuid(), 1, true, false, \'t\', :part, g, '
                "now() - make_interval(days => :days) FROM generate_series(1, :n) AS g"), given)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.scalar(text(f"SELECT count(*) FROM {table}"))  # names of this test, not data
                for table in ("rejected_events", "superseded_events", "overruled_flags")}


DAYS = {"rejected_events": 90, "superseded_events": 30, "overruled_flags": 0}  # 0: kept for ever


def test_rows_older_than_the_limit_go_newer_stay_in_batches(database_url, engine):
    fill(engine, old=2500, new=7)
    batches = []

    done = apply_retention(database_url, DAYS, batch=1000, on_deleted=lambda table, rows: batches.append((table, rows)))

    assert done == {"rejected_events": 2500, "superseded_events": 2500}
    assert counts(engine) == {"rejected_events": 7, "superseded_events": 7, "overruled_flags": 2507}
    # A thousand rows scanned per statement; the third reaches the young rows and ends the round.
    assert [rows for table, rows in batches if table == "rejected_events"] == [1000, 1000, 500]
    assert apply_retention(database_url, DAYS) == {"rejected_events": 0, "superseded_events": 0}


def test_an_imports_refusals_and_versions_set_aside_stay_as_long_as_the_import(database_url, engine):
    from csv_importer import store

    fill(engine, old=1500, new=0)
    import_id = "6f1c3b7a-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, "
                          "rows_unique, rows_duplicate, rows_suspicious, rows_malformed, rows_published, status) "
                          "VALUES (:id, 'old.csv', :sha, 'k', 1, 3, 3, 0, 0, 0, 3, 'published')"),
                     {"id": import_id, "sha": "0" * 64})
        # Among the oldest rows: the import's one refused row and one older version; its third row was saved.
        conn.execute(text("UPDATE rejected_events SET import_id = :id, import_line = 2 WHERE \"offset\" = 7"),
                     {"id": import_id})
        conn.execute(text("UPDATE superseded_events SET import_id = :id, import_line = 3 WHERE \"offset\" = 9"),
                     {"id": import_id})
        conn.execute(text("INSERT INTO import_progress VALUES (:id, 'imports', 0, 5, 2)"), {"id": import_id})
    record = store.get_import(engine, import_id)
    before = store.status(engine, record)

    apply_retention(database_url, DAYS, batch=1000)

    assert counts(engine)["rejected_events"] == 1 and counts(engine)["superseded_events"] == 1
    after = store.status(engine, record)
    assert (after.in_database, after.rejected, after.older, after.complete) == \
           (before.in_database, before.rejected, before.older, before.complete) == (1, 1, 1, True)


def test_a_table_locked_by_someone_else_is_left_for_the_next_round_not_waited_on(database_url, engine):
    fill(engine, old=10, new=0)
    holder = psycopg2.connect(libpq_dsn(database_url))
    holder.cursor().execute("LOCK TABLE rejected_events IN SHARE MODE")  # DELETE must wait for it
    try:
        started = time.monotonic()
        done = apply_retention(database_url, DAYS)
        waited = time.monotonic() - started
    finally:
        holder.close()

    assert "left for the next round" in done["rejected_events"]
    assert done["superseded_events"] == 10  # the other tables are done meanwhile
    assert waited < 20  # a second's lock timeout, not the holder's whole transaction
    assert apply_retention(database_url, DAYS)["rejected_events"] == 10


def test_writers_go_on_while_the_clean_up_runs(database_url, engine):
    fill(engine, old=20_000, new=0)
    inserted = []

    def write():
        with engine.begin() as conn:  # a refusal recorded as the ingestion service records one
            conn.execute(text('INSERT INTO rejected_events (topic, partition, "offset", payload, payload_size, '
                              "reasons) VALUES ('t', 2, 1, 'x', 1, '[]')"))
        inserted.append(time.monotonic())

    cleaning = threading.Thread(target=apply_retention, args=(database_url, DAYS), kwargs={"batch": 500})
    cleaning.start()
    wait_until(lambda: counts(engine)["rejected_events"] < 20_000, message="the clean-up under way")
    write()
    cleaning.join(60)

    assert inserted and cleaning.is_alive() is False
    assert counts(engine)["rejected_events"] == 1  # the new one stays


def test_the_service_applies_its_retention(ingestion_settings, start_service, engine):
    fill(engine, old=5, new=3)

    start_service(ingestion_settings.model_copy(update={"retention_check_seconds": 0.5}))

    wait_until(lambda: counts(engine) == {"rejected_events": 3, "superseded_events": 3, "overruled_flags": 3},
               message="the old rows deleted by the service")
