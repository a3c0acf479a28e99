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

__all__ = ["messages"]


def _id_prefix(sha256: str) -> str:
    """A derived id is this prefix and the line number in 8 hex digits: a UUID (version 5 layout) from 80 bits of
    the file's SHA-256 and 32 bits of the line."""
    h = sha256
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:24]}"


def _text(value: str) -> str:
    # Most fields are plain printable ASCII with no quote or backslash: written directly, much faster than dumps.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def messages(layout: CsvLayout, marked: Marked, sha256: str, import_id: UUID,
             file_name: str) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every row to publish, in file order."""
    positions = [layout.positions[name] for name in REQUIRED]
    in_order = positions == list(range(len(REQUIRED)))
    own_id = layout.positions.get("transaction_id")
    prefix = _id_prefix(sha256)
    tail = f'"import_id":"{import_id}","source_file":{_text(file_name)},"line_number":'
    # The common row (no field needing escapes) is written with one format call; braces of JSON doubled.
    plain = ("{{" + ",".join(f'"{name}":"{{}}"' for name in REQUIRED)
             + ',"transaction_id":"{}",' + tail.replace("{", "{{").replace("}", "}}") + '{},"is_suspicious":{}}}')
    skip = marked.not_published
    suspicious_lines = {flag.line for flag in marked.suspicious}
    for line, fields, _ in records(layout):
        if line in skip:
            continue
        given = fields[own_id].strip() if own_id is not None else ""
        transaction_id = given or f"{prefix}{line:08x}"
        values = list(map(str.strip, fields[:6])) if in_order else [fields[at].strip() for at in positions]
        flagged = "true" if line in suspicious_lines else "false"
        joined = "".join(values) + transaction_id
        if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
            value = plain.format(*values, transaction_id, line, flagged)
        else:
            body = ",".join(f'"{name}":{_text(v)}' for name, v in zip(REQUIRED, values, strict=True))
            value = f'{{{body},"transaction_id":{_text(transaction_id)},{tail}{line},"is_suspicious":{flagged}}}'
        yield transaction_id.encode(), value.encode()
