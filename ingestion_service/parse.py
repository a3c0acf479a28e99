"""The first step from Kafka messages to rows: the contract. Pure (no database), so it runs on the reader thread
while the writer resolves and writes the previous batch. Every message becomes an Event or a Refusal; none is
dropped, and nothing a message holds makes parsing raise.

The messages producers send take the fast path (fast_path.py), which gives the event the contract would; any
other message goes to the contract itself, which gives the event or the refusal with its reasons.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from uuid import UUID

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, Reason, parse
from payments_core.settings import TopicSettings

from . import fast_path
from .records import Event, Refusal, Source

__all__ = ["Parser", "by_contract"]

log = logging.getLogger(__name__)


class Parser:
    """Parses each topic's messages with its model: pure, no database, on the reader thread."""

    def __init__(self, topics: TopicSettings):
        self.models = {topics.payments_topic: PaymentEvent, topics.imports_topic: ImportRowEvent}
        self.fast: dict[str, Callable[[Source], Event | None]] = {
            topics.payments_topic: fast_path.payment, topics.imports_topic: fast_path.import_row}

    def parse(self, source: Source) -> Event | Refusal:
        """The event, or the refusal saying why not; never raises, whatever the message holds."""
        try:
            event = self.fast[source.topic](source) or by_contract(self.models[source.topic], source)
            if isinstance(event, Event) and (mismatch := _key_mismatch(source.key, event.transaction_id)):
                return Refusal(source, [mismatch], "KeyMismatch", **_provenance(source.value))
            return event
        except Exception as e:  # noqa: BLE001 — the last line of defence: one message cannot stop the service
            log.exception("parsing failed on topic=%s partition=%s offset=%s; the message is refused as internal",
                          source.topic, source.partition, source.offset)
            return Refusal.internal(source, e, **_provenance(source.value))


def by_contract(model: type[PaymentEvent] | type[ImportRowEvent], source: Source) -> Event | Refusal:
    """The event as the contract reads it, or its refusal with the contract's reasons."""
    try:
        m = parse(model, source.value)
    except ContractError as e:
        return Refusal(source, e.reasons, "ContractError", **_provenance(source.value))
    if isinstance(m, PaymentEvent):
        return Event(source, str(m.transaction_id), str(m.sender_id), str(m.receiver_id), m.amount,
                     m.currency_code, m.timestamp, m.status)
    return Event(source, str(m.transaction_id), m.username_sender, m.username_receiver, m.amount, m.currency,
                 m.transaction_date, m.status, str(m.import_id), m.line_number, m.is_suspicious)


def _key_mismatch(key: bytes | None, transaction_id: str) -> Reason | None:
    """A message's key decides its partition, and only one partition keeps versions in order: a key that is set
    must be the payment's transaction_id. No key (or an empty one, as a console producer sends) is accepted: the
    lifecycle's rule keeps such versions in order."""
    if not key or key == transaction_id.encode():  # the producers' key: the id as the event writes it
        return None
    try:
        if UUID(key.decode()) == UUID(transaction_id):
            return None
    except (UnicodeDecodeError, ValueError):
        pass
    shown = key[:80].decode(errors="replace")
    return Reason(field="key", code="key_mismatch", input=shown,
                  message=f"the message key {shown!r} is not its transaction_id {transaction_id}: versions of one "
                          "payment must share a key (or have none) to stay in order")


def _provenance(raw: bytes) -> dict:
    """What can still be read of a refused message's identity (its transaction, import and line), if anything:
    the importer shows a person which line of their file was refused."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    found = {}
    for field, key in (("transaction_id", "transaction_id"), ("import_id", "import_id")):
        try:
            found[field] = str(UUID(str(data[key])))
        except (KeyError, ValueError):
            pass
    line = data.get("line_number")
    if isinstance(line, int) and not isinstance(line, bool) and 1 <= line <= 2**31 - 1:
        found["import_line"] = line
    return found
