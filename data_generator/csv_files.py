"""The sample CSV files people upload first to try the importer, the same bytes for every run.

All rows refer to the seed users (`payments seed`), use currencies with two decimals, and dates like
`2025-07-07 01:42:05 UTC` in June and July 2025. "Above the threshold" means strictly greater than 8000, the
default SUSPICIOUS_AMOUNT_THRESHOLD.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from payments_core.db.seed import seed_users
from payments_core.wire import CSV_COLUMNS

__all__ = ["COLUMNS", "SAMPLE_FILES", "THRESHOLD", "write_samples"]

COLUMNS = list(CSV_COLUMNS)
THRESHOLD = Decimal(8000)
CURRENCIES = ["USD"] * 10 + ["EUR"] * 5 + ["GBP"] * 3 + ["CAD", "CHF", "AUD"]
STATUSES = ["completed"] * 7 + ["pending"] * 2 + ["failed"]
START = datetime(2025, 6, 1, tzinfo=UTC)
SPAN_SECONDS = 61 * 24 * 3600

Row = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class SampleFile:
    name: str
    purpose: str
    make: Callable[[random.Random], list[Row]]


class _Rows:
    """Draws rows; every row it returns is different from every other it returned."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.usernames = [u.username for u in seed_users()]
        self.seen: set[Row] = set()

    def one(self, low: Decimal, high: Decimal) -> Row:
        while True:
            sender, receiver = self.rng.sample(self.usernames, 2)
            cents = self.rng.randint(int(low * 100), int(high * 100))
            moment = START + timedelta(seconds=self.rng.randrange(SPAN_SECONDS))
            row = (sender, receiver, f"{Decimal(cents) / 100:.2f}", self.rng.choice(CURRENCIES),
                   moment.strftime("%Y-%m-%d %H:%M:%S UTC"), self.rng.choice(STATUSES))
            if row not in self.seen:
                self.seen.add(row)
                return row

    def ordinary(self) -> Row:
        """Mostly small amounts, a few large ones; never above the threshold."""
        high = Decimal("250") if self.rng.random() < 0.8 else THRESHOLD
        return self.one(Decimal("1.00"), high)

    def suspicious(self) -> Row:
        return self.one(THRESHOLD + Decimal("0.01"), Decimal("50000.00"))


def _huge(rng: random.Random) -> list[Row]:
    rows = _Rows(rng)
    return [rows.suspicious() if rng.random() < 0.01 else rows.ordinary() for _ in range(100_000)]


def _regular(rng: random.Random) -> list[Row]:
    rows = _Rows(rng)
    return [rows.ordinary() for _ in range(1000)]


def _suspicious(rng: random.Random) -> list[Row]:
    rows = _Rows(rng)
    return [rows.suspicious() for _ in range(50)]


def _suspicious_duplicated(rng: random.Random) -> list[Row]:
    rows = _Rows(rng)
    unique = [rows.suspicious() if rng.random() < 0.15 else rows.ordinary() for _ in range(180)]
    repeats = [rng.choice(unique) for _ in range(20)]  # exact copies of earlier rows, some of them suspicious
    result = unique + repeats
    rng.shuffle(result)
    return result


SAMPLE_FILES = [
    SampleFile("regular_transactions.csv",
               "1,000 valid, unique rows, none above the threshold: the happy path", _regular),
    SampleFile("suspicious_transactions.csv",
               "50 rows, every one above the threshold: all are shown as suspicious", _suspicious),
    SampleFile("suspicious_duplicated_transactions.csv",
               "200 rows with exact duplicates and rows above the threshold: both tables filled",
               _suspicious_duplicated),
    SampleFile("huge_load_transactions.csv",
               "100,000 unique rows, about 1% above the threshold: a large initial load", _huge),
]


def write_samples(folder: Path, seed: int = 20250707) -> list[Path]:
    """Write every sample file into `folder` (the same bytes for the same seed); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, sample in enumerate(SAMPLE_FILES):
        rows = sample.make(random.Random(seed + index))
        path = folder / sample.name
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        written.append(path)
    return written
