"""The second pass: each unique row as a message for `import-payments-events`, keyed by its transaction_id.

A row's transaction_id is its own (a `transaction_id` column) or one derived from the file's SHA-256 and the line
number: the same file imported again gives the same ids, so it never creates a transaction twice. Fields are sent
as the file has them (trimmed): the importer does not judge content, the ingestion service validates every row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import UUID

from .marking import Marked
from .reading import REQUIRED, CsvLayout, records

__all__ = ["derived_transaction_id", "messages"]


def derived_transaction_id(sha256: str, line: int) -> str:
    """A UUID (version 5 layout) from 80 bits of the file's SHA-256 and 32 bits of the line number."""
    h = sha256
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:24]}{line:08x}"


def _text(value: str) -> str:
    # Most fields are plain printable ASCII with no quote or backslash: written directly, much faster than dumps.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def messages(layout: CsvLayout, marked: Marked, sha256: str, import_id: UUID,
             file_name: str) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every row to publish, in file order."""
    positions = [layout.positions[name] for name in REQUIRED]
    own_id = layout.positions.get("transaction_id")
    tail = f'"import_id":"{import_id}","source_file":{_text(file_name)},"line_number":'
    skip = marked.not_published
    suspicious_lines = {flag.line for flag in marked.suspicious}
    plain_prefix = [f'"{name}":"' for name in REQUIRED]
    for record in records(layout):
        if record.line in skip:
            continue
        fields = record.fields
        given = fields[own_id].strip() if own_id is not None else ""
        transaction_id = given or derived_transaction_id(sha256, record.line)
        values = [fields[at].strip() for at in positions]
        joined = "".join(values)
        if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
            # The common case, checked once for the whole row: no field needs escaping.
            body = ",".join(prefix + value + '"' for prefix, value in zip(plain_prefix, values, strict=True))
        else:
            body = ",".join(f'"{name}":{_text(value)}' for name, value in zip(REQUIRED, values, strict=True))
        flagged = record.line in suspicious_lines
        value = (f'{{{body},"transaction_id":{_text(transaction_id)},{tail}{record.line},'
                 f'"is_suspicious":{"true" if flagged else "false"}}}')
        yield transaction_id.encode(), value.encode()
