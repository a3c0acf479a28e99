"""The second step from Kafka messages to rows: what the events refer to (users, currencies), which only the
database knows. Owned by the writer side: it runs in the batch's own transaction, just before the rows are written,
so data flows one way: read -> parse -> resolve -> write -> commit."""

from __future__ import annotations

from decimal import Decimal

from payments_core.contract import ImportRowEvent, PaymentEvent, Reason
from payments_core.wire import SOURCE_GENERATOR, SOURCE_HEADER

from .lookups import Lookups
from .parse import Parsed
from .records import Refusal, Row, Source

__all__ = ["Resolver"]


class Resolver:
    """Rows for the events whose users and currency exist; refusals naming what does not."""

    def __init__(self, suspicious_above: Decimal, lookups: Lookups | None = None):
        self.suspicious_above = suspicious_above
        self.lookups = lookups or Lookups()

    def resolve(self, parsed: list[Parsed], cursor) -> tuple[list[tuple[Row, Source]], list[Refusal],
                                                             list[tuple[Row, Source]]]:
        """Rows for the events whose users and currency exist, refusals naming what does not, and the import rows
        that said `is_suspicious` otherwise than the platform judges (their row has the platform's flag).

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
        rows, refusals, overruled = [], [], []
        for item in parsed:
            event = item.event
            if isinstance(event, PaymentEvent):
                outcome = self._payment_row(item.source, event)
            else:
                outcome = self._import_row(item.source, event)
                if isinstance(outcome, Row) and outcome.is_suspicious != event.is_suspicious:
                    overruled.append((outcome, item.source))
            if isinstance(outcome, Row):
                rows.append((outcome, item.source))
            else:
                refusals.append(outcome)
        return rows, refusals, overruled

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
                                  message=f"unknown currency_code {event.currency_code}: not an ISO 4217 currency "
                                          "payments are made in"))
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
            source="generator" if origin == SOURCE_GENERATOR else "manual",
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
                                  message=f"unknown currency '{event.currency}': not an ISO 4217 currency payments are "
                                          "made in"))
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
            # The platform's judgement, not the sender's: the same threshold as for the payments topic.
            is_suspicious=event.amount > self.suspicious_above,
            source="csv_import",
            import_id=event.import_id,
            import_line=event.line_number,
        )
