"""From Kafka messages to rows: the contract first, then the references (users, currency) that only the
database knows. Every message becomes either a Row or a Refusal; none is dropped."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, Reason, parse
from payments_core.settings import TopicSettings

from .lookups import Lookups
from .records import Refusal, Row, Source

__all__ = ["SOURCE_HEADER", "Parsed", "Validator"]

log = logging.getLogger(__name__)

# A producer may name itself in this header: `generator` (the data generator). Without it a payment on the
# payments topic counts as typed by hand (`manual`).
SOURCE_HEADER = "payments-source"


@dataclass(slots=True)
class Parsed:
    source: Source
    event: PaymentEvent | ImportRowEvent


class Validator:
    """Parses each topic's messages with its model and resolves what they refer to."""

    def __init__(self, topics: TopicSettings, suspicious_above: Decimal, lookups: Lookups | None = None):
        self.models = {topics.payments_topic: PaymentEvent, topics.imports_topic: ImportRowEvent}
        self.suspicious_above = suspicious_above
        self.lookups = lookups or Lookups()

    def parse(self, source: Source) -> Parsed | Refusal:
        """The event, or the refusal saying why not; never raises, whatever the message holds."""
        model = self.models[source.topic]
        try:
            return Parsed(source, parse(model, source.value))
        except ContractError as e:
            return Refusal(source, e.reasons, "ContractError", **_provenance(source.value))
        except Exception as e:  # noqa: BLE001 — the last line of defence: one message cannot stop the service
            log.exception("parsing failed on topic=%s partition=%s offset=%s; the message is refused as internal",
                          source.topic, source.partition, source.offset)
            return Refusal.internal(source, e, **_provenance(source.value))

    def resolve(self, parsed: list[Parsed], cursor) -> tuple[list[tuple[Row, Source]], list[Refusal]]:
        """Rows for the events whose users and currency exist, refusals naming what does not.

        Runs at most two queries on `cursor`, for what the cache lacks; a database error propagates.
        """
        payments = [p.event for p in parsed if isinstance(p.event, PaymentEvent)]
        imports = [p.event for p in parsed if isinstance(p.event, ImportRowEvent)]
        self.lookups.fetch_missing(
            cursor,
            usernames={name for e in imports for name in (e.username_sender, e.username_receiver)},
            user_ids={uid for e in payments for uid in (e.sender_id, e.receiver_id)},
            currency_alphas={e.currency for e in imports},
            currency_codes={e.currency_code for e in payments},
        )
        rows, refusals = [], []
        for item in parsed:
            event = item.event
            if isinstance(event, PaymentEvent):
                outcome = self._payment_row(item.source, event)
            else:
                outcome = self._import_row(item.source, event)
            if isinstance(outcome, Row):
                rows.append((outcome, item.source))
            else:
                refusals.append(outcome)
        return rows, refusals

    def _payment_row(self, source: Source, event: PaymentEvent) -> Row | Refusal:
        users = self.lookups.user_ids
        reasons = [
            Reason(field=field, code="unknown_user", message=f"unknown {field} '{value}': no such user",
                   input=str(value))
            for field, value in (("sender_id", event.sender_id), ("receiver_id", event.receiver_id))
            if value not in users
        ]
        if event.currency_code not in self.lookups.currency_codes:
            reasons.append(Reason(field="currency_code", code="unknown_currency", input=event.currency_code,
                                  message=f"unknown currency_code {event.currency_code}: not an ISO 4217 currency"))
        if reasons:
            return Refusal(source, reasons, "UnknownReference", transaction_id=event.transaction_id)
        origin = source.header(SOURCE_HEADER)
        return Row(
            transaction_id=event.transaction_id,
            sender_id=event.sender_id,
            receiver_id=event.receiver_id,
            amount=event.amount,
            currency_code=event.currency_code,
            transaction_date=event.timestamp,
            status=event.status,
            is_suspicious=event.amount > self.suspicious_above,
            source="generator" if origin == b"generator" else "manual",
            import_id=None,
            import_line=None,
        )

    def _import_row(self, source: Source, event: ImportRowEvent) -> Row | Refusal:
        by_name = self.lookups.user_by_name
        reasons = [
            Reason(field=field, code="unknown_user", message=f"unknown username '{value}' in {field}", input=value)
            for field, value in (("username_sender", event.username_sender),
                                 ("username_receiver", event.username_receiver))
            if value not in by_name
        ]
        currency = self.lookups.currency_by_alpha.get(event.currency)
        if currency is None:
            reasons.append(Reason(field="currency", code="unknown_currency", input=event.currency,
                                  message=f"unknown currency '{event.currency}': not an ISO 4217 code"))
        if reasons:
            return Refusal(source, reasons, "UnknownReference", transaction_id=event.transaction_id,
                           import_id=event.import_id, import_line=event.line_number)
        return Row(
            transaction_id=event.transaction_id,
            sender_id=by_name[event.username_sender],
            receiver_id=by_name[event.username_receiver],
            amount=event.amount,
            currency_code=currency,
            transaction_date=event.transaction_date,
            status=event.status,
            is_suspicious=event.is_suspicious,
            source="csv_import",
            import_id=event.import_id,
            import_line=event.line_number,
        )


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
