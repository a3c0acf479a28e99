"""The last pass: each row to publish as a message for `import-payments-events`, keyed by its transaction_id.

A row's transaction_id is its own (a `transaction_id` column) or the one `identity` derives from its content
(given by the marking): the same rows imported again, from any re-saved copy of the file, give the same ids and
update the same transactions. Fields are sent as the file has them (trimmed): the importer does not judge
content, the ingestion service validates every row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import UUID

from .identity import text_of
from .marking import ALREADY_IMPORTED, MALFORMED, REPEAT, SUSPICIOUS, Marked
from .reading import REQUIRED, CsvLayout, records

__all__ = ["messages"]


def _text(value: str) -> str:
    # Most fields are plain printable ASCII with no quote or backslash: written directly, much faster than dumps.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def messages(layout: CsvLayout, marked: Marked, import_id: UUID, file_name: str) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every row to publish, in file order."""
    positions = [layout.positions[name] for name in REQUIRED]
    in_order = positions == list(range(len(REQUIRED)))
    own_id = layout.positions.get("transaction_id")
    tail = f'"import_id":"{import_id}","source_file":{_text(file_name)},"line_number":'
    # The common row (no field needing escapes) is written with one format call; braces of JSON doubled.
    plain = ("{{" + ",".join(f'"{name}":"{{}}"' for name in REQUIRED)
             + ',"transaction_id":"{}",' + tail.replace("{", "{{").replace("}", "}}") + '{},"is_suspicious":{}}}')
    kinds, ids = marked.kinds, marked.ids
    ordinal = -1  # of the row among those with an id
    for line, _, fields, _ in records(layout):
        kind = kinds[line]
        if kind & (MALFORMED | REPEAT):
            continue
        ordinal += 1
        if kind & ALREADY_IMPORTED:
            continue
        given = fields[own_id].strip() if own_id is not None else ""
        transaction_id = given or text_of(ids[16 * ordinal : 16 * ordinal + 16])
        values = list(map(str.strip, fields[:6])) if in_order else [fields[at].strip() for at in positions]
        flagged = "true" if kind & SUSPICIOUS else "false"
        joined = "".join(values) + transaction_id
        if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
            value = plain.format(*values, transaction_id, line, flagged)
        else:
            body = ",".join(f'"{name}":{_text(v)}' for name, v in zip(REQUIRED, values, strict=True))
            value = f'{{{body},"transaction_id":{_text(transaction_id)},{tail}{line},"is_suspicious":{flagged}}}'
        yield transaction_id.encode(), value.encode()
