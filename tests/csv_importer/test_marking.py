"""Property-based tests of the first pass over a file: any rows, control characters included, are each counted
once, and what is kept of them can be stored and shown."""

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from csv_importer.marking import mark
from csv_importer.reading import REQUIRED, read_layout, records
from payments_core.contract import bad_character

# Any character a UTF-8 file can hold, controls and NUL included.
field_text = st.text(st.characters(codec="utf-8"), max_size=12)
rows = st.lists(st.lists(field_text, min_size=5, max_size=7), min_size=1, max_size=30)


def as_file(data: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REQUIRED)
    # 64 KB of ordinary rows first: a NUL within the first 64 KB refuses the whole file as binary.
    writer.writerows(["alice", "bob", f"{i}.00", "USD", "2025-07-07 01:42:05 UTC", "pending"] for i in range(2000))
    writer.writerows(data)
    return out.getvalue().encode()


@given(rows)
def test_every_row_is_counted_once_and_no_row_with_a_control_character_is_published(data):
    layout = read_layout(as_file(data))

    marked = mark(layout, Decimal(8000))

    assert marked.rows_read == marked.rows_unique + len(marked.duplicates) + len(marked.malformed)
    published = [r for r in records(layout) if r.line not in marked.not_published]
    assert len(published) == marked.rows_unique
    for record in published:
        assert not any(bad_character(f.strip()) for f in record.fields), record
    for flag in marked.flags():
        assert not any("\x00" in f for f in flag.fields), "stored in JSONB: no NUL"
