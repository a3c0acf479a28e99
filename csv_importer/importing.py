"""One import, start to finish: read, mark, recognise content imported before, archive, record, publish.

The order is the promise: nothing is published unless the original file is archived, and success is claimed only
for rows the broker confirmed. From the question "imported before?" to the import's record, other uploads of the
same content wait (an advisory lock in PostgreSQL): of two at the same moment, one proceeds and the other is asked.
No call to S3 or to the broker is made inside a database transaction: a slow one holds neither locks nor
connections.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

import psycopg2
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from payments_core.errors import DatabaseUnavailable

from . import store
from .archive import Archive, ArchiveError, archive_key, safe_file_name
from .marking import mark
from .messages import messages
from .metrics import ImporterMetrics
from .publish import Published, publish_rows
from .reading import FileProblem, read_layout
from .settings import ImporterSettings

__all__ = ["Choice", "Done", "Importer", "SeenBefore"]

log = logging.getLogger(__name__)

# What to do with a file whose content was imported before: ask the person, import every row (those imported
# before are updated in place), or only the rows not in the database yet.
Choice = Literal["ask", "all", "new"]


def give_memory_back() -> None:
    """Return the memory freed by an import to the system. The C allocator keeps freed memory for reuse, in an
    arena per thread (the request's, the Kafka client's); after a 200 MB file that was 150 MB more than idle,
    held until the process ended. glibc only; elsewhere nothing is done."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


@dataclass(frozen=True)
class SeenBefore:
    """The file's content, or some of its rows, were imported before: the person decides what to import."""

    sha256: str
    earlier: store.Earlier
    rows: int  # the file's rows to publish


@dataclass(frozen=True)
class Done:
    import_id: uuid.UUID
    published: Published


@dataclass
class Importer:
    settings: ImporterSettings
    archive: Archive
    engine: Engine
    producer_config: dict
    metrics: ImporterMetrics = field(default_factory=ImporterMetrics)

    def run(self, data: bytes, original_name: str | None, choice: Choice = "ask",
            uploaded_by: str | None = None) -> SeenBefore | Done:
        """Import one file for the account `uploaded_by`. Raises FileProblem (the file), ArchiveError (S3) or
        DatabaseUnavailable. Each outcome is counted in `metrics`."""
        try:
            outcome = self._run(data, original_name, choice, uploaded_by)
        except FileProblem:
            self.metrics.upload("file_refused")
            raise
        except ArchiveError:
            self.metrics.upload("storage_unavailable")
            raise
        except DatabaseUnavailable:
            self.metrics.upload("database_unavailable")
            raise
        finally:
            give_memory_back()
        self.metrics.upload("imported_before" if isinstance(outcome, SeenBefore) else "imported")
        return outcome

    def _run(self, data: bytes, original_name: str | None, choice: Choice, uploaded_by: str | None
             ) -> SeenBefore | Done:
        layout = read_layout(data)
        sha256 = hashlib.sha256(data).hexdigest()
        marked = mark(layout, self.settings.suspicious_amount_threshold)
        import_id, uploaded_at, file_name = uuid.uuid4(), datetime.now(UTC), safe_file_name(original_name)
        key = archive_key(file_name, uploaded_at, import_id)
        counts = {
            "rows_read": marked.rows_read, "rows_unique": marked.rows_unique,
            "rows_duplicate": marked.rows_duplicate, "rows_suspicious": marked.rows_suspicious,
            "rows_malformed": marked.rows_malformed, "rows_conflict": marked.rows_conflict,
        }
        with _database("nothing was archived or published"):
            with self.engine.begin() as conn:
                store.lock_content(conn, marked.content_digest)
                earlier = store.earlier(conn, sha256, marked)
                if earlier and choice == "ask":
                    return SeenBefore(sha256, earlier, marked.rows_unique)
                left_out = store.leave_out_imported(conn, marked) if choice == "new" else 0
                lines = marked.lines
                store.record_import(conn, {
                    "import_id": import_id, "file_name": file_name, "sha256": sha256, "s3_key": key,
                    "size_bytes": len(data), "uploaded_at": uploaded_at, "rows_published": 0, **counts,
                    "content_digest": marked.content_digest, "lines_total": lines.total,
                    "lines_blank": lines.blank, "lines_in_fields": lines.in_fields,
                    "rows_already_imported": left_out, "uploaded_by": uploaded_by,
                }, layout, marked)
        # Recorded and committed (`archiving`): an upload of the same content meanwhile is asked about this one.
        # S3 is called with no transaction open, so a slow S3 holds no lock and no connection.
        try:
            self.archive.put(key, data, metadata={
                "sha256": sha256, "import-id": str(import_id), "original-name": quote(file_name),
                **{name.replace("_", "-"): str(n) for name, n in counts.items()},
            })
        except ArchiveError:
            with contextlib.suppress(SQLAlchemyError, psycopg2.Error):  # if it stays, it says `archiving`
                store.forget_import(self.engine, import_id)
            raise
        with _database("the file was archived, but nothing was published"):
            store.archived(self.engine, import_id)
        to_publish = marked.rows_unique - left_out
        published = publish_rows(self.producer_config, self.settings.imports_topic,
                                 messages(layout, marked, import_id, file_name))
        self.metrics.imported({kind.removeprefix("rows_"): n for kind, n in counts.items()}, published.confirmed,
                              published.failed + (to_publish - published.sent))
        store.finish_import(self.engine, import_id, published.confirmed,
                            complete=published.failed == 0 and published.sent == to_publish)
        log.info("import of %r by %s: %d rows read, %d published, %d not confirmed", file_name, uploaded_by,
                 marked.rows_read, published.confirmed, published.failed,
                 extra={"import_id": str(import_id), "file_name": file_name, "account": uploaded_by})
        return Done(import_id, published)


@contextlib.contextmanager
def _database(outcome: str) -> Iterator[None]:
    try:
        yield
    except (SQLAlchemyError, psycopg2.Error) as e:
        raise DatabaseUnavailable(f"The database did not answer in time, so {outcome}. Try again in a moment.") from e
