"""The first pass over a file: count its rows, find the repeats and the suspicious amounts.

Only what the person is shown is kept (flagged rows and counts); a row is remembered by a 128-bit digest of its
fields, so a million-row file fits in a few dozen megabytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from payments_core.contract import bad_character, safe_text

from .reading import CsvLayout, records

__all__ = ["Flag", "Marked", "mark", "is_suspicious"]


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # "duplicate", "suspicious" or "malformed" (wrong number of fields, or a control character)
    line: int
    fields: list[str]
    duplicate_of: int | None = None


@dataclass
class Marked:
    rows_read: int = 0
    duplicates: list[Flag] = field(default_factory=list)
    suspicious: list[Flag] = field(default_factory=list)
    malformed: list[Flag] = field(default_factory=list)
    not_published: set[int] = field(default_factory=set)  # lines of repeats and malformed rows

    @property
    def rows_unique(self) -> int:
        """Rows that will be published: every well-formed row but the repeats."""
        return self.rows_read - len(self.duplicates) - len(self.malformed)

    def flags(self) -> list[Flag]:
        return self.duplicates + self.suspicious + self.malformed


def is_suspicious(amount: str, threshold: Decimal) -> bool:
    """Strictly above the threshold. An amount that is not a number is not suspicious: the ingestion service
    refuses it with its reason."""
    try:
        return Decimal(amount) > threshold
    except (InvalidOperation, ValueError):
        return False


def mark(layout: CsvLayout, threshold: Decimal) -> Marked:
    marked = Marked()
    first_seen: dict[bytes, int] = {}
    amount_at = layout.positions["amount"]
    for record in records(layout):
        marked.rows_read += 1
        fields = [f.strip() for f in record.fields]
        # isprintable() is one C call that is true for the usual row; only a row it doubts is searched.
        clean = "".join(fields).isprintable() or not any(bad_character(f) for f in fields)
        if not record.well_formed or not clean:
            # A control character (NUL above all) can be neither stored nor published: the row is listed with
            # the character written as an escape, and its line is not published.
            marked.malformed.append(Flag("malformed", record.line, fields if clean else list(map(safe_text, fields))))
            marked.not_published.add(record.line)
            continue
        digest = hashlib.blake2b("\x1f".join(fields).encode(), digest_size=16).digest()
        first = first_seen.setdefault(digest, record.line)
        if first != record.line:
            marked.duplicates.append(Flag("duplicate", record.line, fields, duplicate_of=first))
            marked.not_published.add(record.line)
            continue
        if is_suspicious(fields[amount_at], threshold):
            marked.suspicious.append(Flag("suspicious", record.line, fields))
    return marked
