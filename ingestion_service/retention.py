"""The side tables are kept for a while, not for ever: refusals (`rejected_events`), versions set aside
(`superseded_events`) and overruled flags (`overruled_flags`) older than their retention are deleted, by the
ingestion service, a thousand rows at a time. An import's refusals and versions set aside stay as long as the
import: its counts are read from them.

Each batch is a transaction of its own that touches only the rows it deletes, and waits at most a second for a
lock: a writer never waits behind the whole clean-up, and a table locked by someone else is left for the next round
rather than waited on. `payments_ingest_retention_deleted_total{table}` counts what went."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql

from payments_core.db.connect import libpq_dsn

__all__ = ["TABLES", "Retention", "apply_retention"]

log = logging.getLogger(__name__)

# table -> (its key, in the order rows were added; when a row was added; whether an import's rows are kept)
TABLES = {
    "rejected_events": ("rejected_event_id", "rejected_at", True),
    "superseded_events": ("superseded_event_id", "recorded_at", True),
    "overruled_flags": ("overruled_flag_id", "recorded_at", False),
}

# One batch: the next `batch` rows by key (an index scan of that many rows, whatever the table's size), of which
# those older than the retention are deleted; rows of an import stay as long as the import, whose counts read them
# (csv_importer/store.py, the API). Says the last key scanned, how many rows were scanned and deleted, and whether
# every row scanned was old: rows are added in time order, so a young one means the old ones are all behind.
_BATCH = """
WITH scanned AS (
    SELECT {key}, {at} < now() - make_interval(days => %(days)s) AS old, {kept} AS kept
    FROM {table} WHERE {key} > %(after)s ORDER BY {key} LIMIT %(batch)s
), gone AS (
    DELETE FROM {table} AS t USING scanned
    WHERE t.{key} = scanned.{key} AND scanned.old AND NOT scanned.kept
    RETURNING 1
)
SELECT (SELECT max({key}) FROM scanned), (SELECT count(*) FROM scanned), (SELECT count(*) FROM gone),
       coalesce((SELECT bool_and(old) FROM scanned), false)
"""


def _statement(table: str) -> sql.Composed:
    key, at, keep_imports = TABLES[table]
    kept = sql.SQL("import_id IS NOT NULL") if keep_imports else sql.SQL("false")
    return sql.SQL(_BATCH).format(table=sql.Identifier(table), key=sql.Identifier(key), at=sql.Identifier(at),
                                  kept=kept)


def apply_retention(database_url: str, days: dict[str, int], batch: int = 1000,
                    stopping: threading.Event | None = None,
                    on_deleted: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, int | str]:
    """Delete the rows older than `days[table]` days (0: kept for ever) of each table, `batch` at a time; returns
    the rows deleted per table, or why a table was left for the next round."""
    done: dict[str, int | str] = {}
    connection = psycopg2.connect(libpq_dsn(database_url), application_name="ingestion_retention",
                                  connect_timeout=5, options="-c lock_timeout=1000 -c statement_timeout=30000")
    connection.autocommit = True  # each DELETE its own transaction
    try:
        with connection.cursor() as cursor:
            for table, keep_days in days.items():
                if keep_days <= 0:
                    continue
                deleted, statement, after = 0, _statement(table), 0
                try:
                    while not (stopping and stopping.is_set()):
                        cursor.execute(statement, {"days": keep_days, "after": after, "batch": batch})
                        last, scanned, gone, all_old = cursor.fetchone()
                        deleted += gone
                        on_deleted(table, gone)
                        if scanned < batch or not all_old:
                            break
                        after = last
                        time.sleep(0.05)  # let the writers' own statements through between batches
                    done[table] = deleted
                except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as e:
                    done[table] = f"left for the next round after {deleted} rows: {str(e).strip().splitlines()[0]}"
    finally:
        connection.close()
    return done


class Retention(threading.Thread):
    """Applies the retention every `every_seconds` on a thread of its own; a database that does not answer is
    tried again at the next round."""

    def __init__(self, database_url: str, days: dict[str, int], every_seconds: float,
                 on_deleted: Callable[[str, int], None] = lambda table, rows: None):
        super().__init__(name="retention", daemon=True)
        self.database_url, self.days, self.every_seconds = database_url, days, every_seconds
        self.on_deleted = on_deleted
        self.stopping = threading.Event()

    def run(self) -> None:
        if not any(d > 0 for d in self.days.values()):
            return
        while not self.stopping.wait(self.every_seconds):
            try:
                done = apply_retention(self.database_url, self.days, stopping=self.stopping, on_deleted=self.on_deleted)
            except psycopg2.Error as e:
                log.warning("retention not applied (tried again in %.0f s): %s", self.every_seconds,
                            str(e).strip().splitlines()[0])
                continue
            if any(v for v in done.values()):
                log.info("retention: %s", ", ".join(f"{t} {v}" for t, v in done.items()))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
