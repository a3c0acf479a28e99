"""Archiving the original file in S3 (MinIO) before anything is published."""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from minio import Minio
from minio.error import MinioException, S3Error
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError
from werkzeug.utils import secure_filename

from payments_core.errors import PlatformError

__all__ = ["Archive", "ArchiveError", "NotArchived", "archive_key", "ascii_file_name", "attachment", "safe_file_name"]


class ArchiveError(PlatformError):
    """The file could not be stored; nothing was published."""


class NotArchived(ArchiveError):
    """The storage answered: it holds no such file (an import stopped while archiving, or a bucket emptied)."""


# Characters that reorder what follows them on screen (a name that reads `payments_exe.csv` but is not), and the
# characters a file name or an S3 key should not hold.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE = frozenset('/\\<>:"|?*')
MAX_NAME_BYTES = 200  # of UTF-8: with the key's time and id prefix, far below S3's 1,024


def safe_file_name(name: str | None) -> str:
    """The uploaded name, readable in any script (`支付.csv` stays so), without a path, control or bidi characters,
    or characters unsafe in a key; cut to MAX_NAME_BYTES of UTF-8, keeping its extension."""
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if c.isprintable() and c not in BIDI and c not in _UNSAFE)
    text = " ".join(text.split()).strip(" .")
    stem, dot, extension = text.rpartition(".")
    if not dot or len(extension.encode()) > 16:
        stem, extension = text, ""
    tail = f".{extension}" if extension else ""
    encoded = stem.encode()[: MAX_NAME_BYTES - len(tail.encode())]
    stem = encoded.decode(errors="ignore").strip(" .")
    return f"{stem}{tail}" if stem else "upload.csv"


def ascii_file_name(name: str) -> str:
    """An ASCII stand-in for `name`, where only ASCII goes (S3 metadata, the plain filename of a download)."""
    return secure_filename(name) or "upload.csv"


def attachment(name: str) -> str:
    """A Content-Disposition header for downloading `name`, in any script (RFC 6266: filename*)."""
    return f"attachment; filename=\"{ascii_file_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def archive_key(file_name: str, uploaded_at: datetime, import_id) -> str:
    """e.g. 2026/11/21/20261121T081502Z-3f2b8c1e-regular_transactions.csv: sorted by time, the name kept."""
    return f"{uploaded_at:%Y/%m/%d/%Y%m%dT%H%M%SZ}-{str(import_id)[:8]}-{file_name}"


@dataclass
class Archive:
    """The bucket the original files are kept in.

    Every call has S3_TIMEOUT_SECONDS to connect and for each answer (payments_core/s3.py), and at most `slots`
    calls wait for S3 at once: while it is slow, the next one is refused at once instead of holding another
    serving thread, so sign-in, health and the dashboard keep answering.
    """

    client: Minio
    bucket: str
    slots: int

    def __post_init__(self):
        self._free = threading.BoundedSemaphore(self.slots)

    def _take_slot(self, doing: str) -> None:
        if not self._free.acquire(blocking=False):
            raise ArchiveError(
                f"The file storage is answering slowly: {self.slots} requests are waiting for it already, so "
                f"{doing}. Try again in a minute.")

    @contextmanager
    def _slot(self, doing: str) -> Iterator[None]:
        self._take_slot(doing)
        try:
            yield
        finally:
            self._free.release()

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Store `data` under `key` with `metadata`; create the bucket if it is missing. Raises ArchiveError."""
        with self._slot("the file was not archived and nothing was published"):
            try:
                if not self.client.bucket_exists(self.bucket):
                    self.client.make_bucket(self.bucket)
                self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type="text/csv",
                                       metadata=metadata)
            except (MinioException, HTTPError, OSError, ValueError) as e:
                raise ArchiveError(
                    f"The file could not be archived in storage bucket {self.bucket!r} ({_what(e)}), so nothing "
                    "was published. Try again in a moment; if it keeps failing, the S3 storage is unreachable "
                    "(check S3_ENDPOINT_URL and the S3 keys)."
                ) from e

    def stream(self, key: str, chunk_bytes: int = 1 << 16) -> _Download:
        """The archived file `key`, a chunk at a time: a 200 MB file is sent without being held in memory.
        Raises ArchiveError at once when S3 cannot be reached; a failure later ends the stream."""
        self._take_slot("the archived file cannot be read now")
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as e:
            self._free.release()
            if e.code in ("NoSuchKey", "NoSuchBucket"):
                raise NotArchived(f"The storage bucket {self.bucket!r} holds no archived file for this import: it "
                                  "was never stored, or has been removed from the bucket.") from e
            raise ArchiveError(f"The archived file could not be read from bucket {self.bucket!r} ({e.code}).") from e
        except (MinioException, HTTPError, OSError) as e:
            self._free.release()
            raise ArchiveError(
                f"The archived file could not be read from bucket {self.bucket!r} ({_what(e)}).") from e
        return _Download(response, chunk_bytes, self._free.release)


class _Download:
    """An archived file being sent: the server closes it when the download ends, however it ends (a generator
    never started would never run its `finally`, and keep its connection and its slot for good)."""

    def __init__(self, response, chunk_bytes: int, release):
        self._response, self._chunk_bytes, self._release = response, chunk_bytes, release

    def __iter__(self) -> Iterator[bytes]:
        return self._response.stream(self._chunk_bytes)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            self._response.close()
            self._response.release_conn()
            release()


def _what(error: Exception) -> str:
    """What went wrong, in words a person can act on (never the driver's own message)."""
    if isinstance(error, TimeoutError | ReadTimeoutError | ConnectTimeoutError) or "timed out" in str(error):
        return "it did not answer in time"
    return type(error).__name__
