"""Reading CSV files as people make them."""

from decimal import Decimal

import pytest

from csv_importer.marking import MALFORMED, mark
from csv_importer.reading import REQUIRED, FileProblem, read_layout, records

HEADER = "username_sender,username_receiver,amount,currency,transaction_date,status"
ROW = "pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending"


def rows(text: str | bytes):
    layout = read_layout(text.encode() if isinstance(text, str) else text)
    return [(r.line, r.fields, r.well_formed) for r in records(layout)]


@pytest.mark.parametrize("text", [
    f"{HEADER}\n{ROW}\n",
    f"\ufeff{HEADER}\r\n{ROW}\r\n",
    f"{HEADER.replace(',', ';')}\n{ROW.replace(',', ';')}\n",
    f"{HEADER.replace(',', chr(9))}\n{ROW.replace(',', chr(9))}\n",
    f"{HEADER.upper().replace(',', ' , ')}\n{ROW}\n",
    f"{HEADER}\n{ROW}\n\n\n   \n",
    '"username_sender","username_receiver","amount","currency","transaction_date","status"\n'
    '"pthompson","rpeterson","12.50","USD","2025-07-07 01:42:05 UTC","pending"\n',
])
def test_the_ways_people_write_csv_all_read_the_same(text):
    assert rows(text) == [(2, ROW.split(","), True)]


def test_a_quoted_field_may_hold_the_delimiter_and_a_newline_and_line_numbers_stay_true():
    text = f'{HEADER}\n"smith, jr",b,1,USD,d,pending\n"multi\nline",b,2,USD,d,pending\n\n{ROW}\n'

    found = rows(text)

    assert [line for line, _, _ in found] == [2, 3, 6]
    assert found[0][1][0] == "smith, jr"
    assert found[1][1][0] == "multi\nline"


def test_columns_may_come_in_any_order_with_extra_ones():
    layout = read_layout(b"note,status,amount,currency,transaction_date,username_receiver,username_sender\n"
                         b"x,pending,1,USD,d,b,a\n")

    assert layout.positions["username_sender"] == 6 and layout.positions["status"] == 1


def test_a_row_with_the_wrong_number_of_fields_is_reported_with_its_line():
    assert rows(f"{HEADER}\n{ROW}\nonly,three,fields\n{ROW},extra\n") == [
        (2, ROW.split(","), True), (3, ["only", "three", "fields"], False), (4, [*ROW.split(","), "extra"], False)]


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (HEADER.encode() + b"\n\n", "no data rows"),
    (b"username_sender,amount\nx,1\n", "Missing columns: username_receiver, currency, transaction_date, status"),
    (b"name,age\nbob,4\n", "does not look like a payments CSV"),
    (HEADER.encode() + b"\nM\xfcller,b,1,USD,d,pending\n", "not UTF-8 text (line 2"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    # Which of two amounts is the payment's is unknown: the first was read silently before.
    ((HEADER + ",Amount").encode() + b"\na,b,1,USD,2025-07-07 01:42:05 UTC,pending,9000\n",
     "The column amount is named twice in the first line (columns 3 and 7"),
])
def test_a_file_that_cannot_be_imported_gets_one_clear_message(data, words):
    with pytest.raises(FileProblem, match=words.replace("(", r"\(")):
        read_layout(data)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_nul_in_one_row_costs_that_row_whatever_the_line_ends(end):
    rows = ["a,b,1.00,USD,2025-07-07 01:42:05 UTC,pending", "a\x00x,b,2.00,USD,2025-07-07 01:42:05 UTC,pending",
            "c,d,3.00,USD,2025-07-07 01:42:05 UTC,pending"]
    data = end.join([",".join(REQUIRED), *rows]).encode() + end.encode()

    marked = mark(read_layout(data), Decimal(8000))

    assert (marked.rows_read, marked.rows_malformed, marked.rows_unique) == (3, 1, 2)
    assert marked.kinds[3] & MALFORMED, "line 3, the row with the NUL"


@pytest.mark.parametrize("tail", ["", "😀"])
def test_a_line_longer_than_any_row_is_refused_by_number_before_it_is_read(tail):
    data = f"{HEADER}\n{ROW}\n{'x' * 3 * 2**20}{tail}\n{ROW}\n".encode()

    with pytest.raises(FileProblem, match="Line 3 is longer than 1 MB"):
        read_layout(data)


def test_a_long_quoted_note_spread_over_many_short_lines_is_no_long_line():
    note = "\n".join(["a note line"] * 200_000)  # 2.4 MB in one field: refused by the field limit, by its line
    data = f"{HEADER},note\n{ROW},\"{note}\"\n".encode()

    with pytest.raises(FileProblem, match="starts on line 2"):
        list(records(read_layout(data)))
