"""The last pass: each row to publish as a message for `import-payments-events`, keyed by its transaction_id.

A row's transaction_id is its own (a `transaction_id` column) or the one `identity` derives from its content
(given by the marking): the same rows imported again, from any re-saved copy of the file, give the same ids and
update the same transactions. Fields are sent as the file has them (trimmed): the importer does not judge
content, the ingestion service validates every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from payments_core.wire import CSV_COLUMNS, ImportRowEncoder

from .identity import text_of
from .marking import ALREADY_IMPORTED, CONFLICT, MALFORMED, REPEAT, SUSPICIOUS, Marked
from .reading import CsvLayout, records

__all__ = ["messages"]


def messages(layout: CsvLayout, marked: Marked, import_id: UUID, file_name: str) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every row to publish, in file order."""
    positions = [layout.positions[name] for name in CSV_COLUMNS]
    width = len(CSV_COLUMNS)
    in_order = positions == list(range(width))
    own_id = layout.positions.get("transaction_id")
    encode = ImportRowEncoder(import_id, file_name).encode
    kinds, ids = marked.kinds, marked.ids
    ordinal = -1  # of the row among those with an id
    for line, _, fields, _ in records(layout):
        kind = kinds[line]
        if kind & (MALFORMED | REPEAT | CONFLICT):
            continue
        ordinal += 1
        if kind & ALREADY_IMPORTED:
            continue
        given = fields[own_id].strip() if own_id is not None else ""
        transaction_id = given or text_of(ids[16 * ordinal : 16 * ordinal + 16])
        values = list(map(str.strip, fields[:width])) if in_order else [fields[at].strip() for at in positions]
        yield transaction_id.encode(), encode(values, transaction_id, line, bool(kind & SUSPICIOUS)).encode()
