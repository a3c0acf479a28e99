"""The first step from Kafka messages to rows: the contract. Pure (no database), so it runs on the reader thread
while the writer resolves and writes the previous batch. Every message becomes an Event or a Refusal; none is
dropped, and nothing a message holds makes parsing raise. Refusals are worded in refusals.py.

The messages producers send take the fast path (fast_path.py), which gives the event the contract would; any
other message goes to the contract itself, which gives the event or the refusal with its reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, parse
from payments_core.settings import TopicSettings

from . import fast_path, refusals
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
            if isinstance(event, Event) and not _key_fits(source.key, event.transaction_id):
                return refusals.key_mismatch(source, event.transaction_id)
            return event
        except Exception as e:  # noqa: BLE001 — the last line of defence: one message cannot stop the service
            log.exception("parsing failed on topic=%s partition=%s offset=%s; the message is refused as internal",
                          source.topic, source.partition, source.offset)
            return refusals.internal(source, e)


def by_contract(model: type[PaymentEvent] | type[ImportRowEvent], source: Source) -> Event | Refusal:
    """The event as the contract reads it, or its refusal with the contract's reasons."""
    try:
        m = parse(model, source.value)
    except ContractError as e:
        return refusals.by_contract(source, e.reasons)
    if isinstance(m, PaymentEvent):
        return Event(source, str(m.transaction_id), str(m.sender_id), str(m.receiver_id), m.amount,
                     m.currency_code, m.timestamp, m.status)
    return Event(source, str(m.transaction_id), m.username_sender, m.username_receiver, m.amount, m.currency,
                 m.transaction_date, m.status, str(m.import_id), m.line_number, m.is_suspicious)


def _key_fits(key: bytes | None, transaction_id: str) -> bool:
    """A message's key decides its partition, and only one partition keeps versions in order: a key that is set
    must be the payment's transaction_id. No key (or an empty one, as a console producer sends) is accepted: the
    lifecycle's rule keeps such versions in order."""
    if not key or key == transaction_id.encode():  # the producers' key: the id as the event writes it
        return True
    try:
        return UUID(key.decode()) == UUID(transaction_id)
    except (UnicodeDecodeError, ValueError):
        return False
