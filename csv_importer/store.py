"""The importer's records in PostgreSQL: imports, their flagged rows, and what the ingestion service made of them."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on

from payments_core.contract import Reason, safe_text
from payments_core.db.models import Import, ImportFlag, ImportProgress, RejectedEvent, SupersededEvent, Transaction

from .identity import text_of
from .marking import ALREADY_IMPORTED, CONFLICT, CONFLICTED, MALFORMED, REPEATED, SUSPICIOUS, Marked
from .reading import CsvLayout, records

__all__ = ["Earlier", "FlagPage", "ImportStatus", "Overlap", "earlier", "flags_page", "leave_out_imported",
           "lock_content", "record_import", "rejected_rows", "status"]


class _Stream(io.TextIOBase):
    """A file to COPY from, read from an iterator of text chunks: a million rows go to PostgreSQL without being
    held in memory at once."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks, self._left = chunks, ""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._left) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._left += chunk
        taken, self._left = (self._left, "") if size < 0 else (self._left[:size], self._left[size:])
        return taken


def _copy(conn: Connection, statement: str, lines: Iterable[str], per_chunk: int = 5000) -> None:
    def chunks() -> Iterator[str]:
        batch = []
        for line in lines:
            batch.append(line)
            if len(batch) == per_chunk:
                yield "".join(batch)
                batch.clear()
        yield "".join(batch)

    with conn.connection.dbapi_connection.cursor() as cursor:
        cursor.copy_expert(statement, _Stream(chunks()), size=1 << 20)


def _copy_text(value: str) -> str:
    """A value in COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# An import still `archiving` this long after its upload stopped there (its process ended): nothing of it was
# published, so it is not "imported before", and its page says it stopped.
ARCHIVING_GIVEN_UP = timedelta(minutes=10)


def stopped_archiving(record) -> bool:
    return record.status == "archiving" and record.uploaded_at < datetime.now(UTC) - ARCHIVING_GIVEN_UP


def lock_content(conn: Connection, content_digest: str) -> None:
    """Until the transaction ends, other imports of the same content wait here: one proceeds, the next one
    then finds it and is asked whether to import again."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(content_digest[:16], 16) - (1 << 63)})


@dataclass(frozen=True)
class Overlap:
    """Rows of a new file already in the database, by the import that last wrote them (None: not an import)."""

    import_id: uuid.UUID | None
    file_name: str | None
    uploaded_at: datetime | None
    rows: int


@dataclass(frozen=True)
class Earlier:
    same_content: list  # imports of the same file or of a re-saved copy of it (newest first)
    overlaps: list[Overlap]  # where the file's rows already in the database came from (most first)

    @property
    def rows_in_database(self) -> int:
        return sum(o.rows for o in self.overlaps)

    def __bool__(self) -> bool:
        return bool(self.same_content or self.overlaps)


def _stage_ids(conn: Connection, marked: Marked) -> None:
    conn.execute(text("CREATE TEMPORARY TABLE incoming_ids (ordinal integer, transaction_id uuid) ON COMMIT DROP"))
    ids = marked.ids
    _copy(conn, "COPY incoming_ids (ordinal, transaction_id) FROM STDIN",
          (f"{n}\t{text_of(ids[16 * n : 16 * n + 16])}\n" for n in range(len(ids) // 16)))


def earlier(conn: Connection, sha256: str, marked: Marked) -> Earlier:
    """The imports of this content, and the file's rows already in `transactions`, by import."""
    same = list(conn.execute(select(Import).where((Import.sha256 == sha256)
                                                  | (Import.content_digest == marked.content_digest))
                             .order_by(Import.uploaded_at.desc())))
    same = [record for record in same if not stopped_archiving(record)]
    _stage_ids(conn, marked)
    found = conn.execute(text("""
        SELECT t.import_id, i.file_name, i.uploaded_at, count(*) AS rows
        FROM incoming_ids AS n JOIN transactions AS t USING (transaction_id)
        LEFT JOIN imports AS i ON i.import_id = t.import_id
        GROUP BY t.import_id, i.file_name, i.uploaded_at ORDER BY rows DESC, i.uploaded_at DESC
    """))
    return Earlier(same, [Overlap(*row) for row in found])


def leave_out_imported(conn: Connection, marked: Marked) -> int:
    """Mark the rows already in `transactions` (after `earlier`) not to be published; returns how many."""
    found = conn.execute(text("SELECT n.ordinal FROM incoming_ids AS n JOIN transactions USING (transaction_id)"))
    left_out = 0
    for (ordinal,) in found:
        marked.kinds[marked.id_lines[ordinal]] |= ALREADY_IMPORTED
        left_out += 1
    return left_out


def record_import(conn: Connection, values: dict, layout: CsvLayout, marked: Marked) -> None:
    """The import (status `archiving`) and the rows the person is shown, within the caller's transaction.

    The flagged rows' fields are read again from the file and copied in a stream; a repeated row is one flag
    holding the lines that repeat it.
    """
    import_id = values["import_id"]
    conn.execute(insert(Import).values(**values, status="archiving"))
    wanted = SUSPICIOUS | MALFORMED | REPEATED | CONFLICT | CONFLICTED
    shown = ((MALFORMED, "malformed"), (REPEATED, "duplicate"), (SUSPICIOUS, "suspicious"),
             (CONFLICT | CONFLICTED, "conflict"))

    def flags() -> Iterator[str]:
        kinds = marked.kinds
        for line, last_line, fields, _ in records(layout):
            kind = kinds[line]
            if not kind & wanted:
                continue
            fields = [f.strip() for f in fields]
            for bits, name in shown:
                if kind & bits:
                    written = list(map(safe_text, fields)) if bits == MALFORMED else fields
                    yield (f"{import_id}\t{name}\t{line}\t{last_line}\t"
                           f"{_copy_text(json.dumps(written, ensure_ascii=False))}\n")

    if marked.rows_suspicious or marked.rows_malformed or marked.rows_duplicate or marked.rows_conflict:
        _copy(conn, "COPY import_flags (import_id, kind, line_number, last_line, fields) FROM STDIN", flags())
    # Which lines go with which: a repeated row lists its repeats; a conflict lists the lines sharing its id.
    pairs = [("duplicate", marked.repeat_lines, marked.repeat_of)] if marked.rows_duplicate else []
    if marked.rows_conflict:
        pairs += [("conflict", marked.conflict_lines, marked.conflict_of),
                  ("conflict", marked.conflict_of, marked.conflict_lines)]
    if not pairs:
        return
    conn.execute(text("CREATE TEMPORARY TABLE incoming_pairs (kind text, line integer, first integer) ON COMMIT DROP"))
    _copy(conn, "COPY incoming_pairs (kind, line, first) FROM STDIN",
          (f"{kind}\t{line}\t{first}\n" for kind, lines, firsts in pairs
           for line, first in zip(lines, firsts, strict=True)))
    conn.execute(text("""
        UPDATE import_flags AS f SET repeats = p.lines
        FROM (SELECT kind, first, array_agg(DISTINCT line ORDER BY line) AS lines FROM incoming_pairs
              GROUP BY kind, first) AS p
        WHERE f.import_id = :import_id AND f.kind = p.kind AND f.line_number = p.first
    """), {"import_id": import_id})


def archived(engine: Engine, import_id: uuid.UUID) -> None:
    """The import's file is in S3: its rows are published next."""
    with engine.begin() as conn:
        conn.execute(update(Import).where(Import.import_id == import_id).values(status="publishing"))


def forget_import(engine: Engine, import_id: uuid.UUID) -> None:
    """The import's file could not be archived, so nothing of it was published: it did not happen (its flagged
    rows go with it)."""
    with engine.begin() as conn:
        conn.execute(delete(Import).where(Import.import_id == import_id))


def finish_import(engine: Engine, import_id: uuid.UUID, published: int, complete: bool) -> None:
    with engine.begin() as conn:
        conn.execute(update(Import).where(Import.import_id == import_id).values(
            rows_published=published, status="published" if complete else "partially_published"))


def get_import(engine: Engine, import_id: uuid.UUID):
    with engine.connect() as conn:
        return conn.execute(select(Import).where(Import.import_id == import_id)).first()


def history(engine: Engine, before: tuple[datetime, uuid.UUID] | None = None, limit: int = 100) -> list:
    """The imports, newest first, `limit` at a time: `before` is the (uploaded_at, import_id) of the last one shown.
    A keyset page costs the same however far back it is, and an upload meanwhile does not shift it."""
    query = select(Import).order_by(Import.uploaded_at.desc(), Import.import_id.desc()).limit(limit)
    if before is not None:
        query = query.where(tuple_(Import.uploaded_at, Import.import_id) < tuple_(*before))
    with engine.connect() as conn:
        return list(conn.execute(query))


@dataclass(frozen=True)
class FlagPage:
    rows: list
    total: int  # the import's flagged rows of this kind, in all
    previous: int | None  # the first line shown, when rows come before it (None at the start)
    next: int | None  # the last line shown, when rows come after it (None at the end)


def flags_page(engine: Engine, import_id: uuid.UUID, kind: str, after: int = 0, per_page: int = 50,
               backwards: bool = False) -> FlagPage:
    """The flagged rows of `kind` after line `after` (or, `backwards`, the page before it), by line. Pages by line
    number rather than offset: the primary key takes it straight there. One row more than a page says whether
    there is another in the direction read; a look the other way says whether there is one behind."""
    where = (ImportFlag.import_id == import_id) & (ImportFlag.kind == kind)
    line = ImportFlag.line_number
    if backwards:
        page = select(ImportFlag).where(where, line < after).order_by(line.desc())
    else:
        page = select(ImportFlag).where(where, line > after).order_by(line)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(ImportFlag).where(where))
        rows = list(conn.execute(page.limit(per_page + 1)))
        more, rows = len(rows) > per_page, rows[:per_page]
        if backwards:
            rows.reverse()
        if not rows:
            return FlagPage(rows, total, None, None)
        behind = line > rows[-1].line_number if backwards else line < rows[0].line_number
        other_side = conn.scalar(select(select(line).where(where, behind).exists()))
    before_first, after_last = (more, other_side) if backwards else (other_side, more)
    return FlagPage(rows, total, rows[0].line_number if before_first else None,
                    rows[-1].line_number if after_last else None)


@dataclass
class ImportStatus:
    published: int
    in_database: int
    rejected: int
    rejections: list[dict]  # the latest refusals: line and reasons
    older: int = 0  # rows older than what is stored (or contradicting a final status): valid, not applied

    @property
    def complete(self) -> bool:
        return self.in_database + self.older + self.rejected >= self.published


def still_refused(import_id):
    """The import's refused rows that are not stored since: a row sent again once its cause was fixed (replay.py)
    counts as stored, no longer as refused."""
    stored = (select(Transaction.transaction_id)
              .where(Transaction.import_id == RejectedEvent.import_id,
                     Transaction.import_line == RejectedEvent.import_line).exists())
    return (RejectedEvent.import_id == import_id) & ~stored


def latest_refusals(*columns):
    """Of each line of an import still refused, its latest refusal (a line refused again, when delivered again or
    sent again while still wrong, is one line), by line; `columns` of `rejected_events`, the caller's `where`
    naming the import with still_refused."""
    return (select(*columns).ext(distinct_on(RejectedEvent.import_line))
            .order_by(RejectedEvent.import_line, RejectedEvent.rejected_event_id.desc()))


def refused_lines(conn: Connection, import_id: uuid.UUID, show: int = 100) -> list[dict]:
    """The first `show` lines still refused, each with the reasons of its latest refusal."""
    found = conn.execute(latest_refusals(RejectedEvent.import_line, RejectedEvent.reasons)
                         .where(still_refused(import_id)).limit(show))
    return [{"line": line, "reasons": [Reason.model_validate(r).text() for r in reasons]} for line, reasons in found]


def status(engine: Engine, record, show: int = 100) -> ImportStatus:
    """How many of the import's rows are in PostgreSQL and how many were refused, and why (by line)."""
    with engine.connect() as conn:
        in_database = conn.scalar(select(func.coalesce(func.sum(ImportProgress.rows_saved), 0))
                                  .where(ImportProgress.import_id == record.import_id))
        rejected = conn.scalar(select(func.count(func.distinct(RejectedEvent.import_line)))
                               .where(still_refused(record.import_id)))
        older = conn.scalar(select(func.count(func.distinct(SupersededEvent.import_line)))
                            .where(SupersededEvent.import_id == record.import_id))
        rejections = refused_lines(conn, record.import_id, show)
    # import_progress counts every row the service decided on; the superseded ones were not saved.
    return ImportStatus(record.rows_published, max(0, in_database - older), rejected, rejections, older)


def rejected_rows(engine: Engine, import_id: uuid.UUID, per_fetch: int = 1000) -> Iterator[tuple[int, str, dict]]:
    """(line, reason, the row's fields as sent) of each refused row, for the person to fix and upload again, by
    line; read from the database `per_fetch` at a time (a server-side cursor), never all at once."""
    query = (select(RejectedEvent.import_line, RejectedEvent.reasons, RejectedEvent.payload)
             .where(still_refused(import_id))
             .order_by(RejectedEvent.import_line, RejectedEvent.rejected_event_id))
    with engine.connect() as conn:
        found = conn.execution_options(stream_results=True, yield_per=per_fetch).execute(query)
        last = None
        for line, reasons, payload in found:
            if line == last:
                continue  # refused again when delivered again: the first refusal is the one shown
            last = line
            try:
                sent = json.loads(bytes(payload))
            except ValueError:
                sent = {}
            reason = "; ".join(Reason.model_validate(r).text() for r in reasons)
            yield line, reason, sent if isinstance(sent, dict) else {}
