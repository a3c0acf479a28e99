"""Archiving the original file in S3 (MinIO) before anything is published."""

from __future__ import annotations

import io
from datetime import datetime

from minio import Minio
from minio.error import MinioException
from urllib3.exceptions import HTTPError
from werkzeug.utils import secure_filename

from payments_core.errors import PlatformError

__all__ = ["ArchiveError", "archive", "archive_key", "safe_file_name"]


class ArchiveError(PlatformError):
    """The file could not be stored; nothing was published."""


def safe_file_name(name: str | None) -> str:
    """The uploaded name without any path, in plain ASCII letters, digits, dots, dashes and underscores."""
    return secure_filename(name or "") or "upload.csv"


def archive_key(file_name: str, uploaded_at: datetime, import_id) -> str:
    """e.g. 2026/11/21/20261121T081502Z-3f2b8c1e-regular_transactions.csv: sorted by time, the name kept."""
    return f"{uploaded_at:%Y/%m/%d/%Y%m%dT%H%M%SZ}-{str(import_id)[:8]}-{file_name}"


def archive(client: Minio, bucket: str, key: str, data: bytes, metadata: dict[str, str]) -> None:
    """Store `data` under `key` with `metadata`; create the bucket if it is missing. Raises ArchiveError."""
    try:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
        client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="text/csv", metadata=metadata)
    except (MinioException, HTTPError, OSError, ValueError) as e:
        raise ArchiveError(
            f"The file could not be archived in storage bucket {bucket!r} ({type(e).__name__}), so nothing was "
            "published. Try again in a moment; if it keeps failing, the S3 storage is unreachable "
            "(check S3_ENDPOINT_URL and the S3 keys)."
        ) from e


def read_archived(client: Minio, bucket: str, key: str) -> bytes:
    try:
        response = client.get_object(bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()
    except (MinioException, HTTPError, OSError) as e:
        raise ArchiveError(f"The archived file could not be read from bucket {bucket!r} ({type(e).__name__}).") from e
