"""The first step from Kafka messages to rows: the contract. Pure (no database), so it runs on the reader thread
while the writer resolves and writes the previous batch. Every message becomes Parsed or a Refusal; none is
dropped, and nothing a message holds makes parsing raise."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from uuid import UUID

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, Reason, parse
from payments_core.settings import TopicSettings

from .records import Refusal, Source

__all__ = ["Parsed", "Parser"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Parsed:
    source: Source
    event: PaymentEvent | ImportRowEvent


class Parser:
    """Parses each topic's messages with its model: pure, no database, on the reader thread."""

    def __init__(self, topics: TopicSettings):
        self.models = {topics.payments_topic: PaymentEvent, topics.imports_topic: ImportRowEvent}

    def parse(self, source: Source) -> Parsed | Refusal:
        """The event, or the refusal saying why not; never raises, whatever the message holds."""
        model = self.models[source.topic]
        try:
            event = parse(model, source.value)
            if (mismatch := _key_mismatch(source.key, event.transaction_id)) is not None:
                return Refusal(source, [mismatch], "KeyMismatch", **_provenance(source.value))
            return Parsed(source, event)
        except ContractError as e:
            return Refusal(source, e.reasons, "ContractError", **_provenance(source.value))
        except Exception as e:  # noqa: BLE001 — the last line of defence: one message cannot stop the service
            log.exception("parsing failed on topic=%s partition=%s offset=%s; the message is refused as internal",
                          source.topic, source.partition, source.offset)
            return Refusal.internal(source, e, **_provenance(source.value))


def _key_mismatch(key: bytes | None, transaction_id: UUID) -> Reason | None:
    """A message's key decides its partition, and only one partition keeps versions in order: a key that is set
    must be the payment's transaction_id. No key (or an empty one, as a console producer sends) is accepted: the
    lifecycle's rule keeps such versions in order."""
    if not key:
        return None
    try:
        if UUID(key.decode()) == transaction_id:
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
            found[field] = UUID(str(data[key]))
        except (KeyError, ValueError):
            pass
    line = data.get("line_number")
    if isinstance(line, int) and not isinstance(line, bool) and 1 <= line <= 2**31 - 1:
        found["import_line"] = line
    return found
