"""CSV files as people make them, and the same rows saved again the ways spreadsheets and editors do."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from csv_importer.reading import REQUIRED

SAMPLES = Path(__file__).resolve().parents[2] / "csvs"


def sample_rows(count: int) -> list[list[str]]:
    """`count` valid rows (known users and currencies, dates in range) from the 100,000-row sample."""
    lines = (SAMPLES / "huge_load_transactions.csv").read_text().splitlines()[1 : count + 1]
    return [line.split(",") for line in lines]


@dataclass(frozen=True)
class Saving:
    """How a program writes rows: line ends, a BOM, quoting, the separator, the order of the columns, and how it
    writes amounts and dates."""

    line_end: str = "\n"
    bom: bool = False
    quote_all: bool = False
    delimiter: str = ","
    order: tuple[int, ...] = tuple(range(len(REQUIRED)))
    amounts_with_zeros: bool = False  # 12.5 written 12.50000
    dates_iso: bool = False  # 2025-07-07 01:42:05 UTC written 2025-07-07T03:42:05+02:00

    def write(self, rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator=self.line_end,
                            quoting=csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL)
        writer.writerow([REQUIRED[i] for i in self.order])
        for row in rows:
            row = list(row)
            if self.amounts_with_zeros and "." in row[2]:
                row[2] = row[2] + "000"
            if self.dates_iso and row[4].endswith(" UTC"):
                row[4] = _two_hours_east(row[4])
            writer.writerow([row[i] for i in self.order])
        return (("\ufeff" if self.bom else "") + out.getvalue()).encode()


def _two_hours_east(utc: str) -> str:
    from datetime import datetime, timedelta, timezone

    moment = datetime.fromisoformat(utc.removesuffix(" UTC") + "+00:00")
    return moment.astimezone(timezone(timedelta(hours=2))).isoformat()


# Each way of saving a file again that the importer must recognise as the same rows.
RESAVED = {
    "CRLF line ends": Saving(line_end="\r\n"),
    "a byte order mark": Saving(bom=True),
    "every field quoted": Saving(quote_all=True),
    "semicolons": Saving(delimiter=";"),
    "tabs": Saving(delimiter="\t"),
    "columns in another order": Saving(order=(5, 4, 3, 2, 1, 0)),
    "amounts with trailing zeros": Saving(amounts_with_zeros=True),
    "dates in ISO 8601 with a zone": Saving(dates_iso=True),
    "all of them": Saving("\r\n", True, True, ";", (2, 0, 5, 1, 4, 3), True, True),
}


def physical_lines(data: bytes) -> int:
    """The lines of a file as a person's editor counts them: ended by CRLF, LF or CR; a last line without an end."""
    text = data.decode("utf-8-sig")
    ends = len(re.findall(r"\r\n|\r|\n", text))
    return ends + (1 if text and not text.endswith(("\n", "\r")) else 0)
