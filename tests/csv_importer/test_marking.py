"""Property-based tests of the first pass over a file: any rows, control characters included, are each counted
once, every line of the file is accounted for, and only clean rows are published, each under its own id."""

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from csv_importer.marking import MALFORMED, NOT_PUBLISHED, REPEAT, REPEATED, mark
from csv_importer.reading import REQUIRED, FileProblem, LineCount, read_layout, records
from payments_core.contract import bad_character
from tests.helpers.csv_files import physical_lines

# Any character a UTF-8 file can hold, controls and NUL included.
field_text = st.text(st.characters(codec="utf-8"), max_size=12)
rows = st.lists(st.lists(field_text, min_size=5, max_size=7), min_size=1, max_size=30)
VALID = ["alice", "bob", "1.00", "USD", "2025-07-07 01:42:05 UTC", "pending"]


def as_file(data: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REQUIRED)
    writer.writerow(VALID)
    writer.writerows(data)
    return out.getvalue().encode()


@given(rows)
def test_every_row_is_counted_once_and_no_row_with_a_control_character_is_published(data):
    layout = read_layout(as_file(data))

    marked = mark(layout, Decimal(8000))

    assert marked.rows_read == marked.rows_unique + marked.rows_duplicate + marked.rows_malformed
    published = [r for r in records(layout) if not marked.kinds[r.line] & NOT_PUBLISHED]
    assert len(published) == marked.rows_unique == len(marked.ids) // 16
    ids = {marked.id_at(n) for n in range(marked.rows_unique)}
    assert len(ids) == marked.rows_unique, "no two published rows share a transaction_id"
    for record in published:
        assert not any(bad_character(f.strip()) for f in record.fields), record
    for line, first in zip(marked.repeat_lines, marked.repeat_of, strict=True):
        assert marked.kinds[line] & REPEAT and marked.kinds[first] & REPEATED and first < line


# Text made of what breaks CSV readers: quotes, separators, every kind of line end, controls, non-ASCII.
pieces = st.sampled_from(['"', ",", ";", "\t", "\n", "\r", "\r\n", "a", "1", " ", "\x00", "\x07", "é", "😀", '""'])
bodies = st.lists(pieces, max_size=80).map("".join)


@given(bodies, st.booleans(), st.sampled_from(["\n", "\r\n", "\r"]))
def test_every_physical_line_is_the_header_a_row_a_blank_line_or_inside_a_quoted_field(body, bom, end):
    data = (("\ufeff" if bom else "") + ",".join(REQUIRED) + end + ",".join(VALID) + end + body).encode()
    try:
        layout = read_layout(data)
        count = LineCount()
        marked = mark(layout, Decimal(8000))
        rows_read = sum(1 for _ in records(layout, count))
    except FileProblem:
        return  # a field over the csv module's limit: one message for the file, nothing published

    assert rows_read == marked.rows_read
    assert count.total == physical_lines(data)
    assert count.header_lines + rows_read + count.blank + count.in_fields == count.total
    assert marked.lines == count
    for record in records(layout):
        if record.last_line > record.line:
            assert marked.kinds[record.line] & MALFORMED, "a row spanning lines is shown, never published"
