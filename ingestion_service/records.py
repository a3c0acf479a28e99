"""What the service carries from Kafka to PostgreSQL: events the contract accepted, rows to upsert and refusals
to record.

Ids travel as their canonical text (lower-case, hyphenated), as msgspec reads them and as COPY writes them: a
`uuid.UUID` is made in Python and cost more than the rest of an event, three times over."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from payments_core.contract import MAX_MESSAGE_BYTES, Reason

__all__ = ["TRANSACTION_COLUMNS", "Event", "Refusal", "Row", "Source"]

# The columns the service writes, in the order of Row's fields (and of the COPY stream).
TRANSACTION_COLUMNS = (
    "transaction_id", "sender_id", "receiver_id", "amount", "currency_code", "transaction_date", "status",
    "is_suspicious", "source", "import_id", "import_line", "topic", "partition", "offset",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The Kafka timestamps (milliseconds since 1970) of the years a datetime holds, 1 to 9999.
_DATETIME_MS = range((datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1),
                     (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1) + 1)


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which costs on the hot path.
@dataclass(slots=True)
class Source:
    """Where a message was read: enough to find it again, and to commit past it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int | None  # the Kafka timestamp as the broker gives it; `timestamp` is the moment, when needed
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, message: Message) -> Source:
        """Whatever the message's timestamp and headers hold: headers whose names are not UTF-8 are left out, never
        an error."""
        kind, millis = message.timestamp()
        # Producers set any 64-bit number; one outside the years a datetime holds is as good as none.
        return cls(message.topic(), message.partition(), message.offset(), message.key(), message.value() or b"",
                   millis if kind != TIMESTAMP_NOT_AVAILABLE and millis in _DATETIME_MS else None, _headers(message))

    @property
    def timestamp(self) -> datetime | None:
        """The Kafka timestamp as a moment, made only for the messages that need one (a refusal, a version set
        aside, a log line). Made as it always was (a float of seconds, to the nearest microsecond): it is part of
        the key that records a refusal once, so a message delivered again after an upgrade must give the same."""
        if self.timestamp_ms is None:
            return None
        try:
            return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        except (OverflowError, OSError, ValueError):  # within a millisecond of year 1 or 9999
            return None

    def header(self, name: str) -> bytes | None:
        if not self.headers:  # most messages have none
            return None
        return next((value for key, value in self.headers if key == name), None)


def _headers(message: Message) -> list[tuple[str, bytes]]:
    try:
        return list(message.headers() or [])
    except (UnicodeDecodeError, ValueError, TypeError):
        return []


@dataclass(slots=True)
class Event:
    """A message the contract accepted, with what the writer needs of it, the same for both topics. `resolve.py`
    turns it into a Row once the database has said who its users are and which currency it names."""

    source: Source
    transaction_id: str
    sender: str  # a user_id on payments-events, a username on import-payments-events
    receiver: str
    amount: Decimal
    currency: int | str  # an ISO 4217 numeric code on payments-events, an alphabetic one on import-payments-events
    transaction_date: datetime
    status: str
    import_id: str | None = None  # the rest is an import row's
    import_line: int | None = None
    said_suspicious: bool | None = None


@dataclass(slots=True)
class Row:
    """One transaction as the table holds it (fields in TRANSACTION_COLUMNS order)."""

    transaction_id: str
    sender_id: str
    receiver_id: str
    amount: Decimal
    currency_code: int
    transaction_date: datetime
    status: str
    is_suspicious: bool
    source: str
    import_id: str | None
    import_line: int | None
    topic: str  # the message it was written from
    partition: int
    offset: int

    def copy_line(self) -> str:
        """The row in COPY's text format, columns in TRANSACTION_COLUMNS order. Every field is a validated id,
        number, date, boolean or fixed word, or a topic's name (letters, digits, `.`, `_`, `-` only), so none can
        hold a tab, newline or backslash that needs escaping."""
        return (
            f"{self.transaction_id}\t{self.sender_id}\t{self.receiver_id}\t{self.amount:f}\t{self.currency_code}\t"
            f"{self.transaction_date.isoformat()}\t{self.status}\t{'t' if self.is_suspicious else 'f'}\t"
            f"{self.source}\t{_or_null(self.import_id)}\t{_or_null(self.import_line)}\t{self.topic}\t"
            f"{self.partition}\t{self.offset}\n"
        )


def _or_null(value) -> str:
    return r"\N" if value is None else str(value)


@dataclass(slots=True)
class Refusal:
    """A message that will not become a row, with the reasons a person needs to fix it."""

    source: Source
    reasons: list[Reason]
    error_class: str  # what refused it: the contract, a look-up, or the database
    transaction_id: str | None = None
    import_id: str | None = None
    import_line: int | None = None

    def reasons_json(self) -> str:
        return json.dumps([r.model_dump(mode="json") for r in self.reasons])

    def summary(self) -> str:
        return "; ".join(r.text() for r in self.reasons)

    def stored_payload(self) -> bytes:
        """The payload as kept in rejected_events: whole, or its first MAX_MESSAGE_BYTES when larger."""
        return self.source.value[:MAX_MESSAGE_BYTES]
