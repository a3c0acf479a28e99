"""Property-based tests of the first pass over a file: any rows, control characters included, are each counted
once, every line of the file is accounted for, and only clean rows are published, each under its own id."""

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from csv_importer.marking import CONFLICT, CONFLICTED, MALFORMED, NOT_PUBLISHED, REPEAT, REPEATED, mark
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
    assert marked.rows_conflict == 0, "only a file's own ids can conflict"
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


# Rows of a file with its own ids: a few ids, each given to one of a few payments, in one of two statuses.
OWN_IDS = ["5b6f0e1c-8a41-4a5e-9d0c-4c3b2a190001", "5b6f0e1c-8a41-4a5e-9d0c-4c3b2a190002", "not-a-uuid"]
own_rows = st.lists(st.tuples(st.sampled_from(OWN_IDS), st.sampled_from(["1.00", "2.00", "3.50"]),
                              st.sampled_from(["pending", "completed"])), min_size=1, max_size=25)


@given(own_rows)
def test_rows_sharing_an_id_are_each_published_once_repeated_or_shown_as_a_conflict_with_the_first(data):
    text = "transaction_id," + ",".join(REQUIRED) + "\n" + "".join(
        f"{own},alice,bob,{amount},USD,2025-07-07 01:42:05 UTC,{status}\n" for own, amount, status in data)
    layout = read_layout(text.encode())

    marked = mark(layout, Decimal(8000))

    assert marked.rows_read == (marked.rows_unique + marked.rows_duplicate + marked.rows_malformed
                                + marked.rows_conflict) == len(data)
    lines = {r.line: r.fields for r in records(layout)}
    published = {line: fields for line, fields in lines.items() if not marked.kinds[line] & NOT_PUBLISHED}
    assert len(published) == marked.rows_unique
    amount_of = {}
    for fields in published.values():
        assert amount_of.setdefault(fields[0], fields[3]) == fields[3], "one id, one payment among the published"
    conflicts = dict(zip(marked.conflict_lines, marked.conflict_of, strict=True))
    for line, fields in lines.items():
        if marked.kinds[line] & CONFLICT:
            first = conflicts[line]
            assert first < line and first in published and marked.kinds[first] & CONFLICTED
            assert lines[first][0] == fields[0] and lines[first][3] != fields[3], "same id, another payment"
        elif line not in published:
            assert marked.kinds[line] & REPEAT
