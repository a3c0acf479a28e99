"""The importer's records in PostgreSQL: imports, their flagged rows, and what the ingestion service made of them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select, update

from payments_core.contract import Reason
from payments_core.db.models import Import, ImportFlag, RejectedEvent, Transaction

from .marking import Flag

__all__ = ["ImportStatus", "flags_page", "previous_imports", "record_import", "rejected_rows", "status"]


def previous_imports(engine: Engine, sha256: str) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(Import).where(Import.sha256 == sha256).order_by(Import.uploaded_at.desc())))


def record_import(engine: Engine, values: dict, flags: list[Flag]) -> None:
    """The import (status `publishing`) and its flagged rows, in one transaction."""
    with engine.begin() as conn:
        conn.execute(insert(Import).values(**values, status="publishing"))
        if flags:
            conn.execute(insert(ImportFlag), [
                {"import_id": values["import_id"], "kind": f.kind, "line_number": f.line,
                 "duplicate_of": f.duplicate_of, "fields": f.fields}
                for f in flags
            ])


def finish_import(engine: Engine, import_id: uuid.UUID, published: int, complete: bool) -> None:
    with engine.begin() as conn:
        conn.execute(update(Import).where(Import.import_id == import_id).values(
            rows_published=published, status="published" if complete else "partially_published"))


def get_import(engine: Engine, import_id: uuid.UUID):
    with engine.connect() as conn:
        return conn.execute(select(Import).where(Import.import_id == import_id)).first()


def history(engine: Engine, limit: int = 200) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(Import).order_by(Import.uploaded_at.desc()).limit(limit)))


def flags_page(engine: Engine, import_id: uuid.UUID, kind: str, page: int, per_page: int = 50) -> tuple[list, int]:
    """One page of an import's flagged rows of `kind`, and how many there are in all."""
    where = (ImportFlag.import_id == import_id) & (ImportFlag.kind == kind)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(ImportFlag).where(where))
        rows = list(conn.execute(select(ImportFlag).where(where).order_by(ImportFlag.line_number)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return rows, total


@dataclass
class ImportStatus:
    published: int
    in_database: int
    rejected: int
    rejections: list[dict]  # the latest refusals: line and reasons

    @property
    def complete(self) -> bool:
        return self.in_database + self.rejected >= self.published


def status(engine: Engine, record, show: int = 100) -> ImportStatus:
    """How many of the import's rows are in PostgreSQL and how many were refused, and why (by line)."""
    with engine.connect() as conn:
        in_database = conn.scalar(select(func.count()).select_from(Transaction)
                                  .where(Transaction.import_id == record.import_id))
        rejected = conn.scalar(select(func.count(func.distinct(RejectedEvent.import_line)))
                               .where(RejectedEvent.import_id == record.import_id))
        latest = conn.execute(select(RejectedEvent.import_line, RejectedEvent.reasons)
                              .where(RejectedEvent.import_id == record.import_id)
                              .order_by(RejectedEvent.import_line).limit(show))
        rejections = [{"line": line, "reasons": [Reason.model_validate(r).text() for r in reasons]}
                      for line, reasons in latest]
    return ImportStatus(record.rows_published, in_database, rejected, rejections)


def rejected_rows(engine: Engine, import_id: uuid.UUID) -> list[tuple[int, str, dict]]:
    """(line, reason, the row's fields as sent) of each refused row, for the person to fix and upload again."""
    with engine.connect() as conn:
        found = conn.execute(select(RejectedEvent.import_line, RejectedEvent.reasons, RejectedEvent.payload)
                             .where(RejectedEvent.import_id == import_id)
                             .order_by(RejectedEvent.import_line, RejectedEvent.rejected_event_id))
        rows, seen = [], set()
        for line, reasons, payload in found:
            if line in seen:
                continue
            seen.add(line)
            try:
                sent = json.loads(bytes(payload))
            except ValueError:
                sent = {}
            reason = "; ".join(Reason.model_validate(r).text() for r in reasons)
            rows.append((line, reason, sent if isinstance(sent, dict) else {}))
    return rows
