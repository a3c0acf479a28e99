"""Reading an uploaded CSV file as people really make them.

UTF-8 with or without a BOM, CRLF or LF, a comma, semicolon or tab between fields, quoted fields, header names in
any case or with stray spaces, blank lines anywhere. A file that cannot be read gets one FileProblem naming what is
wrong (and the missing columns); a row with the wrong number of fields is reported with its line number.

Every physical line is accounted for (LineCount): the header, the rows, blank lines, and the lines inside quoted
fields. A quote opened and never closed folds the following lines into one field; that row is reported with the
lines it spans, so no row disappears without a word.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from payments_core.errors import BadInput
from payments_core.wire import CSV_COLUMNS

__all__ = ["DELIMITERS", "REQUIRED", "CsvLayout", "FileProblem", "LineCount", "Record", "read_layout", "records"]

REQUIRED = CSV_COLUMNS
OPTIONAL = ("transaction_id",)
DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_BOM = "\ufeff"


class FileProblem(BadInput):
    """The file as a whole cannot be imported; the message says why and what to do, for a person."""


@dataclass(frozen=True)
class CsvLayout:
    """How a file is laid out: its bytes (checked to be UTF-8), delimiter, and where each needed column is."""

    data: bytes
    delimiter: str
    header: list[str]
    positions: dict[str, int]  # column name -> index in a row

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES[self.delimiter]


class Record(NamedTuple):
    """One data row: the lines it starts and ends on (the header is line 1), its fields, and whether their number
    is the header's. A tuple: a million rows are read several times, and a dataclass per row cost more than the
    reading."""

    line: int
    last_line: int
    fields: list[str]
    well_formed: bool


@dataclass
class LineCount:
    """The file's physical lines (ended by CRLF, LF or CR), once its rows are read: total = header_lines +
    the rows' first lines + blank + in_fields."""

    total: int = 0
    header_lines: int = 0
    blank: int = 0
    in_fields: int = 0  # lines after the first of rows whose quoted fields hold line breaks


def _normalise(name: str) -> str:
    return "_".join(name.replace(_BOM, "").strip().lower().split())


def read_layout(data: bytes) -> CsvLayout:
    """Decode `data` and find its delimiter and columns; raise FileProblem when it cannot be imported."""
    if not data.strip():
        raise FileProblem("The file is empty.")
    head = data.lstrip()[:65536]
    first = re.split(rb"\r\n|\r|\n", head, maxsplit=1)[0]  # whatever its line ends (old Mac files end lines with CR)
    if b"\x00" in first or (b"\x00" in head and first.decode("utf-8", "replace") != first.decode("utf-8", "ignore")):
        # UTF-16 text and binary files (images, a spreadsheet's own format) have NULs from the start, and no
        # readable first line. A NUL after a readable header costs only its row: the marking lists it as malformed.
        raise FileProblem("This is not a CSV file: it contains binary data. Export the sheet as CSV (UTF-8) and "
                          "upload that.")
    _check_utf8(data)
    _check_line_length(data)
    first_line = next((line for line in _text_lines(data) if line.strip()), "")
    best = None
    for delimiter in DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter))
        names = [_normalise(h) for h in header]
        found = sum(name in names for name in REQUIRED)
        if best is None or found > best[0]:
            best = (found, delimiter, header, names)
    found, delimiter, header, names = best
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        if found == 0:
            raise FileProblem(
                "This does not look like a payments CSV file: its first line has none of the expected columns "
                f"({', '.join(REQUIRED)})."
            )
        raise FileProblem(f"Missing columns: {', '.join(missing)}. The first line must name: {', '.join(REQUIRED)}.")
    for name in REQUIRED + OPTIONAL:
        if names.count(name) > 1:
            where = " and ".join(str(i + 1) for i, n in enumerate(names) if n == name)
            raise FileProblem(f"The column {name} is named twice in the first line (columns {where}): which one "
                              "holds the values is unknown. Rename or remove one and upload the file again.")
    positions = {name: names.index(name) for name in REQUIRED + OPTIONAL if name in names}
    layout = CsvLayout(data=data, delimiter=delimiter, header=header, positions=positions)
    if next(records(layout), None) is None:
        raise FileProblem("The file has a header but no data rows.")
    return layout


def _check_utf8(data: bytes, chunk: int = 1 << 20) -> None:
    """Raise FileProblem naming the line of the first byte that is not UTF-8. Decoded a megabyte at a time and
    dropped: the whole file as text would take up to four times its size (one emoji makes every character 4 bytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous chunk's end
        try:
            decoder.decode(view[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as e:
            line = data[: max(0, start - pending + e.start)].count(b"\n") + 1
            raise FileProblem(
                f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow). "
                "Save it again as “CSV UTF-8” and upload that."
            ) from None


# No row of payments is near this long. A longer line would be read whole into one string before the csv module
# refuses its field: up to four bytes a character (one emoji does it), 240 MB for a 60 MB line.
MAX_LINE_BYTES = 1 << 20


def _check_line_length(data: bytes) -> None:
    """Raise FileProblem naming the line when a megabyte of the file holds no line end: then every line read is
    under two megabytes. One search per megabyte, stopped at its first line end: no copy, no decoding."""
    for start in range(0, len(data) - MAX_LINE_BYTES + 1, MAX_LINE_BYTES):
        end = start + MAX_LINE_BYTES
        if data.find(b"\n", start, end) < 0 and data.find(b"\r", start, end) < 0:
            line = data.count(b"\n", 0, start) + data.count(b"\r", 0, start) - data.count(b"\r\n", 0, start) + 1
            raise FileProblem(
                f"Line {line:,} is longer than {MAX_LINE_BYTES // 2**20} MB, and no row of payments is: most likely "
                "the file's line ends were lost, or it is not a CSV file. Fix that line and upload the file again.")


def _text_lines(data: bytes) -> io.TextIOWrapper:
    # Decoded as read, over the bytes already in memory (BytesIO shares them): no second copy of the file.
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def records(layout: CsvLayout, count: LineCount | None = None) -> Iterator[Record]:
    """Every data row after the header, in order; blank lines are skipped. When the rows are all read, `count`
    (if given) holds the file's lines.

    Raises FileProblem, naming the line a row starts on, when a field is longer than the csv module reads
    (128 KiB): no payment has such a field, and the usual cause is a quote opened there and never closed.
    """
    reader = csv.reader(_text_lines(layout.data), delimiter=layout.delimiter)
    width = len(layout.header)
    count = count if count is not None else LineCount()
    started = 0
    header_seen = False
    try:
        for fields in reader:
            line, started = started + 1, reader.line_num  # a quoted field may span lines: the row starts here
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                count.blank += started - line + 1
                continue
            if not header_seen:
                header_seen = True
                count.header_lines = started - line + 1
                continue
            count.in_fields += started - line
            yield Record(line, started, fields, len(fields) == width)
        count.total = reader.line_num
    except csv.Error as e:
        raise FileProblem(
            f"The row that starts on line {started + 1} could not be read ({e}): most likely a quote (\") opens "
            "a field there and is never closed, so the rest of the file runs into that field. Fix that line and "
            "upload the file again."
        ) from None
