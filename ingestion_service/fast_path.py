"""The contract's answer for the messages producers send, at a fraction of its cost.

The generator and the importer send plain ASCII JSON, each field once, each value in its canonical form. For such a
message this module builds the Event itself: msgspec reads the JSON in C into text, and each value is checked
against the canonical part of the contract's own patterns (the case of an id, a status or a currency forgiven as
the contract forgives it, and the spaces around free text); a time in UTC is read by datetime, in the contract's
range. Anything else (a space around an id, an amount or a code, an escape, a field missing or given twice, a value
of another type) gets None, and the contract decides: the same event, or the refusal with its reasons. The fast path
never refuses.
tests/ingestion_service/test_fast_path.py shows on generated messages that the two agree.

About a tenth of the contract's cost per message: pydantic's model, its validators in Python and the UUID objects
are what this leaves out (bench/ingestion.py prints the stage).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache, partial

import msgspec

from payments_core.contract import MAX_MESSAGE_BYTES
from payments_core.fields import EARLIEST, LATEST_AHEAD, STATUSES, text_pattern

from .records import Event, Source

__all__ = ["import_row", "payment"]

# An id as the producers write it: hex, hyphenated, and not the nil UUID.
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NIL = "00000000-0000-0000-0000-000000000000"
# The canonical part of fields.AMOUNT_PATTERN: no spaces, at most two decimals (the contract takes more zeros).
_AMOUNT = re.compile(rb"[1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?)")
_CURRENCY_NUMERIC = re.compile(rb"[1-9][0-9]{0,2}")
_CURRENCY_ALPHA = re.compile(r"[A-Za-z]{3}")
_LINE = re.compile(rb"[1-9][0-9]{0,9}")
_USERNAME = re.compile(text_pattern(150))
_FILE_NAME = re.compile(text_pattern(255))
_STATUSES = frozenset(STATUSES)
_FLAGS = {b"true": True, b"false": False}
# A time in UTC as the producers write it: the generator's `2025-07-07T01:42:05.123456+00:00`, the CSV's
# `2025-07-07 01:42:05 UTC`, with `Z`, or with no zone (UTC, as the contract reads it). Group 1 is the date and
# time, which datetime reads in C; a day the calendar lacks is left to the contract.
_UTC_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?)"
                       r"(\+00:00| UTC|Z)?")


class _Payment(msgspec.Struct, forbid_unknown_fields=True):
    transaction_id: str
    sender_id: str
    receiver_id: str
    amount: msgspec.Raw
    currency_code: msgspec.Raw
    timestamp: str
    status: str


class _ImportRow(msgspec.Struct, forbid_unknown_fields=True):
    username_sender: str
    username_receiver: str
    amount: msgspec.Raw
    currency: str
    transaction_date: str
    status: str
    transaction_id: str
    import_id: str
    source_file: str
    line_number: msgspec.Raw
    is_suspicious: msgspec.Raw


_PAYMENT = msgspec.json.Decoder(_Payment)
_IMPORT_ROW = msgspec.json.Decoder(_ImportRow)
# Quotes in a message of each kind whose values are all strings but the numbers (and the flag): two per key and
# two per string value. Without a backslash every quote opens or closes a string, so one more key (a field given
# twice, which msgspec would take the last of and the contract refuses) shows as two more quotes.
_PAYMENT_QUOTES = 2 * (7 + 5)
_IMPORT_ROW_QUOTES = 2 * (11 + 8)


def payment(source: Source) -> Event | None:
    """The event the contract would give for a payments-events message, or None when it cannot tell."""
    raw = source.value
    if (m := _decoded(_PAYMENT, raw)) is None:
        return None
    amount, quoted = _amount(bytes(m.amount))
    transaction_id, sender, receiver = _id(m.transaction_id), _id(m.sender_id), _id(m.receiver_id)
    if (amount is None or raw.count(b'"') != _PAYMENT_QUOTES + 2 * quoted
            or not (transaction_id and sender and receiver) or sender == receiver
            or (status := m.status.lower()) not in _STATUSES
            or not _CURRENCY_NUMERIC.fullmatch(currency := bytes(m.currency_code))
            or (moment := _moment(m.timestamp)) is None):
        return None
    return Event(source, transaction_id, sender, receiver, amount, int(currency), moment, status)


def import_row(source: Source) -> Event | None:
    """The event the contract would give for an import-payments-events message, or None when it cannot tell."""
    raw = source.value
    if (m := _decoded(_IMPORT_ROW, raw)) is None:
        return None
    amount, quoted = _amount(bytes(m.amount))
    sender, receiver = _username(m.username_sender), _username(m.username_receiver)
    if (amount is None or raw.count(b'"') != _IMPORT_ROW_QUOTES + 2 * quoted
            or sender is None or receiver is None or sender == receiver
            or not ((transaction_id := _id(m.transaction_id)) and (import_id := _import_id(m.import_id)))
            or _file_name(m.source_file) is None
            or (status := m.status.lower()) not in _STATUSES or not _CURRENCY_ALPHA.fullmatch(m.currency)
            or not _LINE.fullmatch(line := bytes(m.line_number)) or int(line) > 2**31 - 1
            or (said := _FLAGS.get(bytes(m.is_suspicious))) is None
            or (moment := _moment(m.transaction_date)) is None):
        return None
    return Event(source, transaction_id, sender, receiver, amount, m.currency.upper(), moment, status, import_id,
                 int(line), said)


def _decoded(decoder: msgspec.json.Decoder, raw: bytes):
    """The message's fields as text, if it is plain: ASCII without a backslash or DEL (no escape, no character the
    contract would have to search for, no BOM), within the contract's size, JSON with exactly the struct's keys."""
    if not (0 < len(raw) <= MAX_MESSAGE_BYTES and raw.isascii() and b"\\" not in raw and b"\x7f" not in raw):
        return None
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError:
        return None


def _id(text: str) -> str | None:
    """The id in its canonical text (lower case), as str(UUID(text)) gives it; None for the nil UUID."""
    if _ID.fullmatch(text) is None or (text := text.lower()) == _NIL:
        return None
    return text


def _amount(raw: bytes) -> tuple[Decimal | None, bool]:
    """The amount of a JSON number or string in canonical form, and whether it was a string."""
    quoted = raw[:1] == b'"'
    digits = raw[1:-1] if quoted and raw[-1:] == b'"' else raw
    return (Decimal(digits.decode()) if _AMOUNT.fullmatch(digits) else None), quoted


def _text(pattern: re.Pattern, text: str) -> str | None:
    # The contract's rule for free text (fields._matching): the pattern, then the spaces around it go.
    return text.strip(" ") if pattern.match(text) else None


def _remembered(check: Callable[[str], str | None], longest: int, size: int) -> Callable[[str], str | None]:
    """`check` (pure), remembered for the last `size` texts of at most `longest` characters: the same users, import
    and file come again and again. A longer text, as long as a message can be, is checked each time, never kept."""
    cached = lru_cache(maxsize=size)(check)
    return lambda text: cached(text) if len(text) <= longest else check(text)


_import_id = _remembered(_id, 36, 64)
_username = _remembered(partial(_text, _USERNAME), 160, 4096)
_file_name = _remembered(partial(_text, _FILE_NAME), 265, 64)


def _moment(text: str) -> datetime | None:
    """The time fields.parse_timestamp gives, within the contract's range, or None. Read with its zone written
    as +00:00 rather than made naive and given one: `replace(tzinfo=UTC)` costs ten times the reading."""
    if (match := _UTC_TIME.fullmatch(text)) is None:
        return None
    try:
        moment = datetime.fromisoformat(match[1] + "+00:00")
    except ValueError:  # 02-30, or year 0000
        return None
    return moment if EARLIEST <= moment <= datetime.now(UTC) + LATEST_AHEAD else None
