"""Writes a batch to PostgreSQL in one transaction: the rows upserted by transaction_id, the refusals recorded.

Rows go through COPY into a per-connection staging table, then one INSERT … ON CONFLICT DO UPDATE moves them
into `transactions`: close to the speed of a plain COPY, and idempotent, so at-least-once delivery gives each
transaction exactly once. An update that changes nothing is skipped, so a redelivered message leaves the row,
and its modified_at, as they were.
"""

from __future__ import annotations

import io
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql
from psycopg2.extras import execute_values, register_uuid
from sqlalchemy.engine import make_url

from payments_core.contract import Reason
from payments_core.errors import DatabaseUnavailable

from .parse import Parsed
from .records import TRANSACTION_COLUMNS, Refusal, Row, Source
from .resolve import Resolver

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

# Every column but the key takes the new version's value; an update that would change nothing is skipped, so a
# redelivered message leaves the row, and its modified_at, as they were.
_UPSERT_TAIL = sql.SQL("""
ON CONFLICT (transaction_id) DO UPDATE SET {assignments}
WHERE ({stored}) IS DISTINCT FROM ({incoming})
""").format(
    assignments=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in _UPDATED),
    stored=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in _UPDATED),
    incoming=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in _UPDATED),
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

Written = tuple[Row, Source]

# Errors that one row can cause (a constraint, a value out of range): the row is refused, the others written.
ROW_ERRORS = (pg_errors.IntegrityError, pg_errors.DataError)

# SQLSTATE classes that say something of the database, not of the data: the connection (08), a deadlock or
# serialization failure (40), resources (53), an operator or a statement timeout (57), the system (58), the schema
# or the rights (42, 3D, 3F, 28), a lock or state (55). The batch is retried later, never blamed on a message.
SYSTEMIC_SQLSTATE_CLASSES = {"08", "28", "3D", "3F", "40", "42", "53", "55", "57", "58"}


@dataclass
class Outcome:
    """What became of a batch's messages: every one is written, collapsed into a later version, or refused."""

    written: list[Written] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # By topic: rows replaced by a later version of the same transaction within the batch.
    collapsed: Counter[str] = field(default_factory=Counter)

    def add(self, other: Outcome) -> Outcome:
        return Outcome(self.written + other.written, self.refusals + other.refusals,
                       self.collapsed + other.collapsed)


class PostgresSink:
    def __init__(self, database_url: str, resolver: Resolver):
        # libpq takes the URL as it is, once SQLAlchemy's driver suffix (postgresql+psycopg2) is removed.
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.resolver = resolver
        self._connection = None

    def _connect(self):
        if self._connection is None or self._connection.closed:
            try:
                # A statement that hangs (a network cut, a lock) fails after a minute instead of stalling the service.
                self._connection = psycopg2.connect(
                    self.dsn, connect_timeout=5, application_name="ingestion_service", keepalives=1,
                    keepalives_idle=10, keepalives_interval=5, keepalives_count=3, options="-c statement_timeout=60000",
                )
            except psycopg2.OperationalError as e:
                raise DatabaseUnavailable(f"PostgreSQL is unreachable: {_first_line(e)}") from e
            register_uuid(conn_or_curs=self._connection)
            with self._connection.cursor() as cursor:
                cursor.execute(STAGING)
            self._connection.commit()
        return self._connection

    def write(self, parsed: list[Parsed], refusals: list[Refusal]) -> Outcome:
        """Resolve, upsert and record one batch in one transaction.

        Returns the rows written, with the message each came from, every refusal (the contract's, the
        look-ups', and the rows the database refused), and how many rows a later version replaced. Raises
        DatabaseUnavailable, having committed nothing, when PostgreSQL is down or refuses the batch for a
        reason of its own (a deadlock, a missing table). Anything else is raised as it is, with nothing
        committed: then something in the batch's messages is to blame, and the caller isolates it.
        """
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                rows, unresolved = self.resolver.resolve(parsed, cursor)
                latest = _latest_per_transaction(rows)
                collapsed = _collapsed(rows, latest)
                try:
                    _upsert_all(cursor, latest)
                    database_refusals = []
                except ROW_ERRORS:
                    connection.rollback()
                    latest, database_refusals = _upsert_one_by_one(cursor, latest)
                every_refusal = refusals + unresolved + database_refusals
                _record(cursor, every_refusal)
                _record_progress(cursor, rows, latest)
            connection.commit()
            return Outcome(latest, every_refusal, collapsed)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            self.close()
            raise DatabaseUnavailable(f"PostgreSQL went away during a batch: {_first_line(e)}") from e
        except psycopg2.Error as e:
            self._rollback()
            if (e.pgcode or "")[:2] in SYSTEMIC_SQLSTATE_CLASSES:
                raise DatabaseUnavailable(f"PostgreSQL cannot take the batch now: {_first_line(e)}") from e
            raise
        except BaseException:
            self._rollback()
            raise

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


def _latest_per_transaction(rows: list[tuple[Row, Source]]) -> list[tuple[Row, Source]]:
    # Messages of one transaction share a partition, so the later one in the batch is the later version.
    latest = {}
    for row, source in rows:
        latest[row.transaction_id.int] = (row, source)  # the int hashes in C; a UUID hashes in Python
    return list(latest.values())


def _collapsed(rows: list[Written], latest: list[Written]) -> Counter[str]:
    if len(rows) == len(latest):  # the usual case, counted for free
        return Counter()
    by_topic = Counter(source.topic for _, source in rows)
    by_topic.subtract(source.topic for _, source in latest)
    return +by_topic


def _upsert_all(cursor, rows: list[tuple[Row, Source]]) -> None:
    if not rows:
        return
    data = "".join(row.copy_line() for row, _ in rows)
    # One read of the whole buffer: psycopg2 reads 8 KB at a time by default, and each read has to win the GIL
    # back from the thread parsing the next batch, which made COPY wait more than it worked.
    cursor.copy_expert(COPY_INTO_STAGING, io.StringIO(data), size=len(data) + 1)
    cursor.execute(UPSERT_FROM_STAGING)


def _upsert_one_by_one(cursor, rows: list[tuple[Row, Source]]) -> tuple[list[tuple[Row, Source]], list[Refusal]]:
    """Each row in a savepoint of its own: the row the database refuses is refused alone."""
    written, refused = [], []
    for row, source in rows:
        cursor.execute("SAVEPOINT one_row")
        try:
            cursor.execute(UPSERT_ONE, tuple(getattr(row, name) for name in TRANSACTION_COLUMNS))
            cursor.execute("RELEASE SAVEPOINT one_row")
            written.append((row, source))
        except ROW_ERRORS as e:
            cursor.execute("ROLLBACK TO SAVEPOINT one_row")
            reason = Reason(field="", code="database", message=f"the database refused the row: {_first_line(e)}")
            log.warning("row refused by the database: topic=%s partition=%s offset=%s reason=%r",
                        source.topic, source.partition, source.offset, reason.message)
            refused.append(Refusal(source, [reason], type(e).__name__, transaction_id=row.transaction_id,
                                   import_id=row.import_id, import_line=row.import_line))
    return written, refused


def _record_progress(cursor, rows: list[Written], written: list[Written]) -> None:
    """Count the import rows saved, per import and partition, in the batch's transaction.

    A message counts once: one delivered again (a batch written whose offsets were not committed) has an offset at
    or below the partition's `last_offset`. (A broker that keeps its log in memory reuses offsets after a restart;
    an import's messages are all sent within seconds, so only an import published across such a restart could be
    under-counted.)
    """
    saved_ids = {row.transaction_id.int for row, _ in written}
    offsets: dict[tuple, list[int]] = defaultdict(list)
    for row, source in rows:
        if row.import_id is not None and row.transaction_id.int in saved_ids:
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


def _record(cursor, refusals: list[Refusal]) -> None:
    if not refusals:
        return
    values = [
        (r.source.topic, r.source.partition, r.source.offset, r.source.key, psycopg2.Binary(r.stored_payload()),
         len(r.source.value), r.reasons_json(), r.transaction_id, r.import_id, r.import_line, r.source.timestamp)
        for r in refusals
    ]
    execute_values(cursor, RECORD_REFUSALS, values, template=REFUSAL_TEMPLATE)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
