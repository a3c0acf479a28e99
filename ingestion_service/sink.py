"""Writes a batch to PostgreSQL in one transaction: the rows upserted by transaction_id, the refusals recorded.

Rows go through COPY into a per-connection staging table, then one INSERT … ON CONFLICT DO UPDATE moves them
into `transactions`: close to the speed of a plain COPY, and idempotent, so at-least-once delivery gives each
transaction exactly once. A version is applied only if it moves the payment forward (lifecycle.py): the rule is
the upsert's WHERE, so it holds whatever the order of arrival and however many instances write. A version not
applied is recorded in `superseded_events`, unless it is the stored version itself (a redelivery).
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql
from psycopg2.extras import execute_values

from payments_core.db.connect import libpq_dsn
from payments_core.errors import DatabaseUnavailable

from . import database, refusals
from .lifecycle import APPLY, CONFLICT, CONTENT, EQUAL, OLDER, differing, verdict
from .records import TRANSACTION_COLUMNS, Refusal, Row, Source
from .resolve import Resolved, Written

__all__ = ["Outcome", "PostgresSink"]

log = logging.getLogger(__name__)

STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_transactions
    (LIKE transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""

_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, TRANSACTION_COLUMNS))
_UPDATED = [c for c in TRANSACTION_COLUMNS if c != "transaction_id"]

def copy_into(table: str) -> sql.Composed:
    """COPY of the written columns into `table` (the staging table; the benchmark's plain COPY)."""
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), _COLUMNS)


COPY_INTO_STAGING = copy_into("incoming_transactions")

# Every column but the key takes the new version's value, when the version moves the payment forward
# (lifecycle.py): the same status at a later time, or pending to a final status. Anything else leaves the row, and
# its modified_at, as they were. The ids returned are the rows inserted or updated.
_UPSERT_TAIL = sql.SQL("""
ON CONFLICT (transaction_id) DO UPDATE SET {assignments}
WHERE (EXCLUDED.status = t.status AND EXCLUDED.transaction_date > t.transaction_date)
   OR (t.status = 'pending' AND EXCLUDED.status <> 'pending')
RETURNING transaction_id
""").format(
    assignments=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in _UPDATED),
)

UPSERT_FROM_STAGING = sql.SQL("INSERT INTO transactions AS t ({columns}) SELECT {columns} FROM incoming_transactions"
                              ).format(columns=_COLUMNS) + _UPSERT_TAIL

UPSERT_ONE = sql.SQL("INSERT INTO transactions AS t ({columns}) VALUES ({values})").format(
    columns=_COLUMNS, values=sql.SQL(", ").join(sql.Placeholder() * len(TRANSACTION_COLUMNS))) + _UPSERT_TAIL

RECORD_REFUSALS = """
INSERT INTO rejected_events (topic, partition, "offset", message_key, payload, payload_size, reasons,
                             transaction_id, import_id, import_line, message_timestamp)
VALUES %s
ON CONFLICT ON CONSTRAINT uq_rejected_events_message DO NOTHING
"""
REFUSAL_TEMPLATE = "(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)"

STORED_VERSIONS = sql.SQL("SELECT transaction_id, status, transaction_date, {content} FROM transactions "
                          "WHERE transaction_id = ANY(%s::uuid[])").format(
    content=sql.SQL(", ").join(map(sql.Identifier, CONTENT)))

RECORD_SUPERSEDED = """
INSERT INTO superseded_events (transaction_id, reason, stored_status, stored_date, incoming_status, incoming_date,
                               topic, partition, "offset", message_timestamp, import_id, import_line, differing_fields)
VALUES %s
ON CONFLICT ON CONSTRAINT uq_superseded_events_message DO NOTHING
"""

RECORD_OVERRULED = """
INSERT INTO overruled_flags (transaction_id, amount, said_suspicious, is_suspicious, topic, partition, "offset",
                             message_timestamp, import_id, import_line)
VALUES %s
ON CONFLICT ON CONSTRAINT uq_overruled_flags_message DO NOTHING
"""

PROGRESS_SO_FAR = """
SELECT import_id, topic, partition, last_offset FROM import_progress
WHERE (import_id, topic, partition) IN %s ORDER BY import_id, topic, partition FOR UPDATE
"""

RECORD_PROGRESS = """
INSERT INTO import_progress (import_id, topic, partition, last_offset, rows_saved) VALUES %s
ON CONFLICT (import_id, topic, partition) DO UPDATE SET
    rows_saved = import_progress.rows_saved + EXCLUDED.rows_saved,
    last_offset = GREATEST(import_progress.last_offset, EXCLUDED.last_offset)
"""

# Errors that one row can cause (a constraint, a value out of range): the row is refused, the others written.
ROW_ERRORS = (pg_errors.IntegrityError, pg_errors.DataError)


@dataclass(slots=True)
class Superseded:
    """A version not applied, and the version it lost to (stored, or later in the same batch)."""

    row: Row
    source: Source
    reason: str  # lifecycle.OLDER or lifecycle.CONFLICT
    stored_status: str
    stored_date: datetime
    differing_fields: list[str] | None = None  # a conflict of the same status and time: where the content differed


@dataclass
class Outcome:
    """What became of a batch's messages: every one is written, collapsed into a later version, superseded by
    what is stored, or refused."""

    written: list[Written] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # By topic: rows replaced by a later version of the same transaction within the batch.
    collapsed: Counter[str] = field(default_factory=Counter)
    superseded: list[Superseded] = field(default_factory=list)
    # By topic: import rows whose `is_suspicious` the platform's threshold overruled.
    overruled: Counter[str] = field(default_factory=Counter)

    def add(self, other: Outcome) -> Outcome:
        return Outcome(self.written + other.written, self.refusals + other.refusals,
                       self.collapsed + other.collapsed, self.superseded + other.superseded,
                       self.overruled + other.overruled)


class PostgresSink:
    def __init__(self, database_url: str, statement_timeout_s: float = 60.0):
        self.dsn = libpq_dsn(database_url)
        self.statement_timeout_s = statement_timeout_s
        self._connection = None
        # What the batch's transaction is doing, and since when (monotonic): read by /health on another thread.
        self.doing: tuple[str, float] | None = None

    def _step(self, what: str) -> None:
        self.doing = (what, time.monotonic())

    def _connect(self):
        if self._connection is None or self._connection.closed:
            self._connection = database.connect(self.dsn, self.statement_timeout_s, "ingestion_writer")
            try:
                with self._connection.cursor() as cursor:
                    cursor.execute(STAGING)  # reads `transactions`: waits while a lock is held on it
                self._connection.commit()
            except psycopg2.Error as e:
                # A session without its staging table is of no use: the next batch starts a new one.
                self.close()
                raise DatabaseUnavailable(f"PostgreSQL could not prepare the session: {database.first_line(e)}") from e
        return self._connection

    def write(self, resolved: Resolved, refused: list[Refusal], in_turn: Callable[[], None] = lambda: None
              ) -> Outcome:
        """Upsert a resolved batch and record its refusals (`refused` and the look-ups') in one transaction.

        `in_turn` is called before the import progress is read and the transaction committed: it returns once
        every batch read before this one is committed, so that the database changes in the order read, or raises
        a TransientError, and nothing is committed.

        Returns the rows written, with the message each came from, every refusal (those given, the look-ups', and
        the rows the database refused), and how many rows a later version replaced. Raises
        DatabaseUnavailable, having committed nothing, when PostgreSQL is down or refuses the batch for a
        reason of its own (a deadlock, a missing table). Anything else is raised as it is, with nothing
        committed: then something in the batch's messages is to blame, and the caller isolates it.
        """
        self._step("connecting")
        try:
            connection = self._connect()
        finally:
            self.doing = None
        try:
            with connection.cursor() as cursor:
                rows, overruled = resolved.rows, resolved.overruled
                latest, superseded = _settle_per_transaction(rows)
                collapsed = _collapsed(rows, latest, superseded)
                self._step("upserting into transactions")
                try:
                    applied = _upsert_all(cursor, latest)
                    database_refusals = []
                except ROW_ERRORS:
                    connection.rollback()
                    latest, applied, database_refusals = _upsert_one_by_one(cursor, latest)
                self._step("recording superseded versions and refusals")
                left_out = _not_applied(cursor, latest, applied)
                superseded += left_out
                every_refusal = refused + resolved.refusals + database_refusals
                _record(cursor, every_refusal)
                _record_superseded(cursor, superseded)
                _record_overruled(cursor, overruled)
                self._step("waiting for the batch read before it to commit")
                in_turn()
                self._step("recording import progress")
                _record_progress(cursor, rows, latest)  # every row decided on, saved or superseded
            self._step("committing")
            connection.commit()
            lost = {id(s.row) for s in left_out}
            return Outcome([w for w in latest if id(w[0]) not in lost], every_refusal, collapsed, superseded,
                           Counter(source.topic for _, source in overruled))
        except psycopg2.Error as e:
            gone = isinstance(e, (psycopg2.OperationalError, psycopg2.InterfaceError)) and not isinstance(
                e, pg_errors.QueryCanceled)  # a statement timeout leaves the connection fine
            self.close() if gone else self._rollback()
            if error := database.unavailable(e, self.doing[0] if self.doing else "writing", self.statement_timeout_s):
                raise error from e
            raise
        except BaseException:
            self._rollback()
            raise
        finally:
            self.doing = None

    def _rollback(self) -> None:
        try:
            self._connection.rollback()
        except psycopg2.Error:
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except psycopg2.Error:
                pass
            self._connection = None


def _settle_per_transaction(rows: list[Written]) -> tuple[list[Written], list[Superseded]]:
    """The version of each transaction the batch keeps, by the lifecycle's rule rather than by arrival, and the
    versions that lost as older or conflicting (an equal one, or one a later version replaced, is collapsed)."""
    kept: dict[str, Written] = {}
    superseded = []
    for row, source in rows:
        key = row.transaction_id
        held = kept.get(key)
        if held is None:
            kept[key] = (row, source)
            continue
        decided = verdict(held[0].status, held[0].transaction_date, row.status, row.transaction_date)
        differs = differing(_content(held[0]), _content(row)) if decided == EQUAL else None
        if decided == APPLY:
            kept[key] = (row, source)
        elif differs:
            superseded.append(Superseded(row, source, CONFLICT, held[0].status, held[0].transaction_date, differs))
        elif decided != EQUAL:
            superseded.append(Superseded(row, source, decided, held[0].status, held[0].transaction_date))
    return list(kept.values()), superseded


def _content(row: Row) -> tuple:
    return tuple(getattr(row, name) for name in CONTENT)


def _collapsed(rows: list[Written], latest: list[Written], superseded: list[Superseded]) -> Counter[str]:
    if len(rows) == len(latest):  # the usual case, counted for free
        return Counter()
    by_topic = Counter(source.topic for _, source in rows)
    by_topic.subtract(source.topic for _, source in latest)
    by_topic.subtract(s.source.topic for s in superseded)
    return +by_topic


def _not_applied(cursor, written: list[Written], applied: set[str]) -> list[Superseded]:
    """The versions the upsert's rule left out, against what is stored; the stored version itself (a redelivery)
    is no news, but a version of the same status and time with other content is a conflict."""
    left = {row.transaction_id: (row, source) for row, source in written if row.transaction_id not in applied}
    if not left:
        return []
    cursor.execute(STORED_VERSIONS, ([row.transaction_id for row, _ in left.values()],))
    superseded = []
    for transaction_id, status, stored_date, *content in cursor.fetchall():
        row, source = left[transaction_id]
        decided = verdict(status, stored_date, row.status, row.transaction_date)
        if decided in (OLDER, CONFLICT):
            superseded.append(Superseded(row, source, decided, status, stored_date))
        elif decided == EQUAL and (differs := differing(tuple(content), _content(row))):
            superseded.append(Superseded(row, source, CONFLICT, status, stored_date, differs))
    return superseded


def _record_superseded(cursor, superseded: list[Superseded]) -> None:
    if not superseded:
        return
    values = [(s.row.transaction_id, s.reason, s.stored_status, s.stored_date, s.row.status,
               s.row.transaction_date, s.source.topic, s.source.partition, s.source.offset, s.source.timestamp,
               s.row.import_id, s.row.import_line, s.differing_fields) for s in superseded]
    execute_values(cursor, RECORD_SUPERSEDED, values)


def _record_overruled(cursor, overruled: list[Written]) -> None:
    if not overruled:
        return
    values = [(row.transaction_id, row.amount, not row.is_suspicious, row.is_suspicious, source.topic,
               source.partition, source.offset, source.timestamp, row.import_id, row.import_line)
              for row, source in overruled]
    execute_values(cursor, RECORD_OVERRULED, values)


def _upsert_all(cursor, rows: list[tuple[Row, Source]]) -> set[str]:
    """Upsert the rows; returns the ids of those inserted or updated."""
    if not rows:
        return set()
    data = "".join(row.copy_line() for row, _ in rows)
    # One read of the whole buffer: psycopg2 reads 8 KB at a time by default, and each read has to win the GIL
    # back from the thread parsing the next batch, which made COPY wait more than it worked.
    cursor.copy_expert(COPY_INTO_STAGING, io.StringIO(data), size=len(data) + 1)
    cursor.execute(UPSERT_FROM_STAGING)
    return {transaction_id for (transaction_id,) in cursor.fetchall()}


def _upsert_one_by_one(cursor, rows: list[Written]) -> tuple[list[Written], set[str], list[Refusal]]:
    """Each row in a savepoint of its own: the row the database refuses is refused alone."""
    written, applied, refused = [], set(), []
    for row, source in rows:
        cursor.execute("SAVEPOINT one_row")
        try:
            cursor.execute(UPSERT_ONE, tuple(getattr(row, name) for name in TRANSACTION_COLUMNS))
            if cursor.fetchone() is not None:
                applied.add(row.transaction_id)
            cursor.execute("RELEASE SAVEPOINT one_row")
            written.append((row, source))
        except ROW_ERRORS as e:
            cursor.execute("ROLLBACK TO SAVEPOINT one_row")
            refusal = refusals.by_database(row, source, e)
            log.warning("row refused by the database: topic=%s partition=%s offset=%s reason=%r",
                        source.topic, source.partition, source.offset, refusal.reasons[0].message)
            refused.append(refusal)
    return written, applied, refused


def _record_progress(cursor, rows: list[Written], written: list[Written]) -> None:
    """Count the import rows saved, per import and partition, in the batch's transaction.

    A message counts once: one delivered again (a batch written whose offsets were not committed) has an offset at
    or below the partition's `last_offset`. (A broker that keeps its log in memory reuses offsets after a restart;
    an import's messages are all sent within seconds, so only an import published across such a restart could be
    under-counted.)
    """
    saved_ids = {row.transaction_id for row, _ in written}
    offsets: dict[tuple, list[int]] = defaultdict(list)
    for row, source in rows:
        if row.import_id is not None and row.transaction_id in saved_ids:
            offsets[(row.import_id, source.topic, source.partition)].append(source.offset)
    if not offsets:
        return
    keys = sorted(offsets)  # every instance locks in the same order: no deadlock between two of them
    cursor.execute(PROGRESS_SO_FAR, (tuple(keys),))
    so_far = {(import_id, topic, partition): last for import_id, topic, partition, last in cursor.fetchall()}
    values = []
    for key in keys:
        last = so_far.get(key, -1)
        new = [offset for offset in offsets[key] if offset > last]
        if new:
            values.append((*key, max(new), len(new)))
    if values:
        execute_values(cursor, RECORD_PROGRESS, values)


def _record(cursor, refused: list[Refusal]) -> None:
    if not refused:
        return
    values = [
        (r.source.topic, r.source.partition, r.source.offset, r.source.key, psycopg2.Binary(r.stored_payload()),
         len(r.source.value), r.reasons_json(), r.transaction_id, r.import_id, r.import_line, r.source.timestamp)
        for r in refused
    ]
    execute_values(cursor, RECORD_REFUSALS, values, template=REFUSAL_TEMPLATE)

