"""One import, start to finish: read, recognise a repeat, mark, archive, record, publish.

The order is the promise: nothing is published unless the original file is archived, and success is claimed only
for rows the broker confirmed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from minio import Minio
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from payments_core.errors import PlatformError
from payments_core.settings import ImporterSettings

from . import store
from .archive import archive, archive_key, safe_file_name
from .marking import mark
from .messages import messages
from .publish import Published, publish_rows
from .reading import read_layout

__all__ = ["DatabaseUnavailable", "Done", "Importer", "SeenBefore"]


class DatabaseUnavailable(PlatformError):
    """PostgreSQL did not answer; nothing was archived or published."""


@dataclass(frozen=True)
class SeenBefore:
    """The same bytes were imported before: the person decides whether to import them again."""

    sha256: str
    previous: list


@dataclass(frozen=True)
class Done:
    import_id: uuid.UUID
    published: Published


@dataclass
class Importer:
    settings: ImporterSettings
    s3: Minio
    engine: Engine
    producer_config: dict

    def run(self, data: bytes, original_name: str | None, again: bool = False) -> SeenBefore | Done:
        """Import one file. Raises FileProblem (the file), ArchiveError (S3) or DatabaseUnavailable."""
        layout = read_layout(data)
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            previous = store.previous_imports(self.engine, sha256)
        except SQLAlchemyError as e:
            raise DatabaseUnavailable(
                "The database did not answer, so nothing was archived or published. Try again in a moment."
            ) from e
        if previous and not again:
            return SeenBefore(sha256, previous)
        threshold = self.settings.suspicious_amount_threshold
        marked = mark(layout, threshold)
        import_id, uploaded_at, file_name = uuid.uuid4(), datetime.now(UTC), safe_file_name(original_name)
        key = archive_key(file_name, uploaded_at, import_id)
        counts = {
            "rows_read": marked.rows_read, "rows_unique": marked.rows_unique,
            "rows_duplicate": len(marked.duplicates), "rows_suspicious": len(marked.suspicious),
            "rows_malformed": len(marked.malformed),
        }
        archive(self.s3, self.settings.s3_bucket, key, data, metadata={
            "sha256": sha256, "import-id": str(import_id), "original-name": file_name,
            **{name.replace("_", "-"): str(n) for name, n in counts.items()},
        })
        try:
            store.record_import(self.engine, {
                "import_id": import_id, "file_name": file_name, "sha256": sha256, "s3_key": key,
                "size_bytes": len(data), "uploaded_at": uploaded_at, "rows_published": 0, **counts,
            }, marked.flags())
        except SQLAlchemyError as e:
            raise DatabaseUnavailable(
                "The file was archived, but the database did not answer, so nothing was published. Try again."
            ) from e
        published = publish_rows(self.producer_config, self.settings.imports_topic,
                                 messages(layout, marked, sha256, import_id, file_name))
        store.finish_import(self.engine, import_id, published.confirmed,
                            complete=published.failed == 0 and published.sent == marked.rows_unique)
        return Done(import_id, published)
