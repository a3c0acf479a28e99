"""Imports and refused messages as the API shows them."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, func, select, tuple_

from csv_importer.store import still_refused
from payments_core.db.models import Import, ImportProgress, RejectedEvent, SupersededEvent

from .models import RejectedEventsQuery
from .payments import PREFIX, days_between

__all__ = ["import_of", "imports_page", "rejected_page"]


def _per_import(conn: Connection, table, aggregate, ids: list[uuid.UUID]) -> dict:
    return dict(conn.execute(select(table.import_id, aggregate).where(table.import_id.in_(ids))
                             .group_by(table.import_id)).all())


def imports_page(conn: Connection, after: tuple | None, limit: int, ids: list[uuid.UUID] | None = None) -> list:
    """A page of imports, newest first, each with what the ingestion service made of its rows."""
    query = select(Import).order_by(Import.uploaded_at.desc(), Import.import_id.desc()).limit(limit)
    if after is not None:
        query = query.where(Import.uploaded_at <= after[0],
                            tuple_(Import.uploaded_at, Import.import_id) < tuple_(*after))
    if ids is not None:
        query = query.where(Import.import_id.in_(ids))
    records = list(conn.execute(query))
    found = [r.import_id for r in records]
    saved = _per_import(conn, ImportProgress, func.sum(ImportProgress.rows_saved), found)
    refused = dict(conn.execute(select(RejectedEvent.import_id, func.count(func.distinct(RejectedEvent.import_line)))
                                .where(RejectedEvent.import_id.in_(found), still_refused(RejectedEvent.import_id))
                                .group_by(RejectedEvent.import_id)).all())
    older = _per_import(conn, SupersededEvent, func.count(func.distinct(SupersededEvent.import_line)), found)
    return [import_of(r, saved.get(r.import_id, 0), refused.get(r.import_id, 0), older.get(r.import_id, 0))
            for r in records]


def import_of(record, saved: int, refused: int, older: int) -> dict:
    # import_progress counts every row the service decided on; those set aside as older were not saved.
    in_database = max(0, int(saved) - older)
    return {
        "import_id": record.import_id, "file_name": record.file_name, "uploaded_at": record.uploaded_at,
        "uploaded_by": record.uploaded_by, "status": record.status,
        "complete": (record.status in ("published", "partially_published")
                     and in_database + older + refused >= record.rows_published),
        "rows": {"read": record.rows_read, "unique": record.rows_unique, "duplicate": record.rows_duplicate,
                 "suspicious": record.rows_suspicious, "malformed": record.rows_malformed,
                 "conflict": record.rows_conflict, "already_imported": record.rows_already_imported,
                 "published": record.rows_published, "in_database": in_database, "refused": refused,
                 "older": older},
        "href": f"{PREFIX}/imports/{record.import_id}",
    }


def _payload(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "backslashreplace")


def rejected_page(conn: Connection, query: RejectedEventsQuery, after: tuple | None) -> list[dict]:
    """Refused messages, newest first."""
    r = RejectedEvent
    where = []
    if query.reason:
        where.append(r.reasons.contains([{"code": query.reason}]))
    where += days_between(r.rejected_at, query.from_, query.to)
    if query.import_id:
        where.append(r.import_id == query.import_id)
    if query.transaction_id:
        where.append(r.transaction_id == query.transaction_id)
    if after is not None:
        where.append(r.rejected_event_id < after[0])
    rows = conn.execute(select(r).where(*where).order_by(r.rejected_event_id.desc()).limit(query.limit))
    return [{"rejected_event_id": x.rejected_event_id, "topic": x.topic, "partition": x.partition,
             "offset": x.offset, "transaction_id": x.transaction_id, "import_id": x.import_id,
             "import_line": x.import_line, "reasons": x.reasons, "payload": _payload(x.payload),
             "payload_size": x.payload_size, "rejected_at": x.rejected_at} for x in rows]
