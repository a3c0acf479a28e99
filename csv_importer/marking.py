"""The first pass over a file: count its lines and rows, give each row its transaction_id, find the repeats and
the suspicious amounts.

What a row is marked with is one byte per line (`Marked.kinds`); the ids of the rows to publish are 16 bytes each
in one buffer; a repeat is a pair of line numbers. So memory grows by a few dozen bytes per row, whatever the
rows hold, and the rows' fields are read again from the file when they are stored or published.
"""

from __future__ import annotations

import hashlib
import uuid
from array import array
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from payments_core.contract import bad_character

from .identity import derived_id, payment_key
from .reading import CsvLayout, LineCount, records
from .seen import seen_payments

__all__ = ["ALREADY_IMPORTED", "CONFLICT", "CONFLICTED", "MALFORMED", "NOT_PUBLISHED", "REPEAT", "REPEATED",
           "SUSPICIOUS", "Marked", "is_suspicious", "mark"]

# What a line is marked with, as bits of its byte in Marked.kinds.
SUSPICIOUS = 1  # amount above the threshold: published, and shown
MALFORMED = 2  # wrong number of fields, or a control character: shown, not published
REPEAT = 4  # the same payment (and status) as an earlier row: shown with it, not published
REPEATED = 8  # a row that later rows repeat: published, and shown with its repeats
ALREADY_IMPORTED = 16  # left out because the person asked for new rows only
CONFLICT = 32  # the transaction_id of an earlier row, with another payment: shown with it, not published
CONFLICTED = 64  # a row whose transaction_id later rows give to other payments: published, and shown with them
NOT_PUBLISHED = MALFORMED | REPEAT | ALREADY_IMPORTED | CONFLICT


@dataclass
class Marked:
    lines: LineCount
    kinds: bytearray  # one byte per line of the file (index = line number)
    ids: bytearray = field(default_factory=bytearray)  # 16 bytes per row to publish, in file order
    id_lines: array = field(default_factory=lambda: array("I"))  # the line of each of those rows
    repeat_lines: array = field(default_factory=lambda: array("I"))  # a repeat's line …
    repeat_of: array = field(default_factory=lambda: array("I"))  # … and the line of the row it repeats
    conflict_lines: array = field(default_factory=lambda: array("I"))  # a row giving an earlier row's id …
    conflict_of: array = field(default_factory=lambda: array("I"))  # … to another payment, and that row's line
    rows_read: int = 0
    rows_suspicious: int = 0
    rows_malformed: int = 0
    content_sum: int = 0  # of the ids, as integers: the file's rows as a set, whatever their order

    @property
    def rows_duplicate(self) -> int:
        return len(self.repeat_lines)

    @property
    def rows_conflict(self) -> int:
        return len(self.conflict_lines)

    @property
    def rows_unique(self) -> int:
        """Rows to publish: every well-formed row but the repeats and the conflicts."""
        return self.rows_read - self.rows_duplicate - self.rows_malformed - self.rows_conflict

    @property
    def content_digest(self) -> str:
        """Equal for two files that hold the same rows to publish, in any order, layout or encoding."""
        return f"{self.content_sum:032x}-{self.rows_unique}"

    def id_at(self, ordinal: int) -> bytes:
        return bytes(self.ids[16 * ordinal : 16 * ordinal + 16])


def is_suspicious(amount: str, threshold: Decimal) -> bool:
    """Strictly above the threshold. An amount that is not a number is not suspicious: the ingestion service
    refuses it with its reason."""
    try:
        return Decimal(amount) > threshold
    except (InvalidOperation, ValueError):
        return False


def mark(layout: CsvLayout, threshold: Decimal) -> Marked:
    """Mark every row of the file; raises FileProblem as `records` does."""
    data = layout.data
    physical_lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 2  # at most, with the header
    marked = Marked(LineCount(), bytearray(physical_lines))
    kinds, ids, id_lines = marked.kinds, marked.ids, marked.id_lines
    seen = seen_payments(physical_lines)
    tags: dict[str, int] = {}  # status -> a 32-bit tag of it
    occurrences: dict[int, int] = {}  # a payment met with more than one status: how many times so far
    other_status: dict[tuple[int, int], int] = {}  # … and the line of each (payment, status) after the first
    at = layout.positions
    sender, receiver, amount_at, currency, date, status = (
        at["username_sender"], at["username_receiver"], at["amount"], at["currency"], at["transaction_date"],
        at["status"])
    own_id = at.get("transaction_id")
    # A file's own ids, with a tag of the payment each was first given to (the table only when there is the column).
    ids_given = seen_payments(physical_lines) if own_id is not None else None
    rows_read = malformed = suspicious = content_sum = 0
    previous, key, first_id, tag = None, "", 0, 0

    def repeat(line: int, first: int) -> None:
        kinds[line] |= REPEAT
        kinds[first] |= REPEATED
        marked.repeat_lines.append(line)
        marked.repeat_of.append(first)

    for line, _, raw, well_formed in records(layout, marked.lines):
        rows_read += 1
        if raw == previous:  # a row repeated on the next line, as in a file of a million identical rows
            first, first_tag = seen(first_id, line, tag)
            if first != line and first_tag == tag:
                repeat(line, first)
                continue
        previous = None
        fields = list(map(str.strip, raw))
        # isprintable() is one C call that is true for the usual row; only a row it doubts is searched.
        if not well_formed or not ("".join(fields).isprintable() or not any(map(bad_character, fields))):
            # A control character (NUL above all) can be neither stored nor published: the row is shown with the
            # character written as an escape, and its line is not published.
            kinds[line] |= MALFORMED
            malformed += 1
            continue
        key = payment_key(fields[sender], fields[receiver], fields[amount_at], fields[currency], fields[date])
        given = fields[own_id] if own_id is not None else ""
        if given:
            key = f"{given}\x1e{key}"  # an id of the file's own: the same id with other content is no repeat
        first_id = derived_id(key, 1)  # the payment's id if it is its only status here, and its key in `seen`
        state = fields[status].lower()
        tag = tags.get(state)
        if tag is None:
            tag = tags[state] = int.from_bytes(hashlib.blake2b(state.encode(errors="surrogatepass"),
                                                               digest_size=4).digest())
        previous = raw  # key, first_id and tag are this row's
        first, first_tag = seen(first_id, line, tag)
        occurrence = 1
        if first_tag != tag:
            # The same payment with another status: a payment of its own, numbered by occurrence.
            occurrence = occurrences.get(first_id, 1) + 1
            first = other_status.setdefault((first_id, tag), line)
            if first == line:
                occurrences[first_id] = occurrence
        if first != line:
            repeat(line, first)
            continue
        if given:
            # One id, two payments: which is right, only the person knows. The first is published, the others
            # are shown beside it and not published (the ingestion service would keep one of them without a word).
            own = _own_id(given)
            payment = derived_id(key.partition("\x1e")[2], 1) & 0xFFFF_FFFF
            first, first_payment = ids_given(own, line, payment)
            if first_payment != payment:
                kinds[line] |= CONFLICT
                kinds[first] |= CONFLICTED
                marked.conflict_lines.append(line)
                marked.conflict_of.append(first)
                continue
        row_id = _own_id(given) if given else first_id if occurrence == 1 else derived_id(key, occurrence)
        ids += row_id.to_bytes(16)
        id_lines.append(line)
        content_sum += row_id
        if is_suspicious(fields[amount_at], threshold):
            kinds[line] |= SUSPICIOUS
            suspicious += 1
    marked.rows_read, marked.rows_malformed, marked.rows_suspicious = rows_read, malformed, suspicious
    marked.content_sum = content_sum & ((1 << 128) - 1)
    return marked


def _own_id(given: str) -> int:
    """The file's own transaction_id as a 128-bit number; one that is no UUID is published as written, and
    refused by the ingestion service (its number here only counts it in the file's content)."""
    try:
        return uuid.UUID(given).int
    except ValueError:
        return int.from_bytes(hashlib.blake2b(given.encode(errors="surrogatepass"), digest_size=16).digest())
