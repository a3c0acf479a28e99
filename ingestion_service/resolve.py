"""The second step from Kafka messages to rows: what the events refer to (users, currencies), which only the
database knows. Owned by the writer side: it runs in the batch's own transaction, just before the rows are written,
so data flows one way: read -> parse -> resolve -> write -> commit."""

from __future__ import annotations

from decimal import Decimal

from payments_core.contract import Reason
from payments_core.wire import SOURCE_GENERATOR, SOURCE_HEADER

from .lookups import Lookups
from .records import Event, Refusal, Row, Source

__all__ = ["Resolver"]


class Resolver:
    """Rows for the events whose users and currency exist; refusals naming what does not."""

    def __init__(self, suspicious_above: Decimal, lookups: Lookups | None = None):
        self.suspicious_above = suspicious_above
        self.lookups = lookups or Lookups()

    def resolve(self, events: list[Event], cursor) -> tuple[list[tuple[Row, Source]], list[Refusal],
                                                           list[tuple[Row, Source]]]:
        """Rows for the events whose users and currency exist, refusals naming what does not, and the import rows
        that said `is_suspicious` otherwise than the platform judges (their row has the platform's flag).

        Runs at most two queries on `cursor`, for what the cache lacks; a database error propagates.
        """
        payments = [e for e in events if e.import_id is None]
        imports = [e for e in events if e.import_id is not None]
        self.lookups.fetch_missing(
            cursor,
            usernames={name for e in imports for name in (e.sender, e.receiver)},
            user_ids={uid for e in payments for uid in (e.sender, e.receiver)},
            currency_alphas={e.currency for e in imports},
            currency_codes={e.currency for e in payments},
        )
        rows, refusals, overruled = [], [], []
        for event in events:
            if event.import_id is None:
                outcome = self._payment_row(event)
            else:
                outcome = self._import_row(event)
                if isinstance(outcome, Row) and outcome.is_suspicious != event.said_suspicious:
                    overruled.append((outcome, event.source))
            if isinstance(outcome, Row):
                rows.append((outcome, event.source))
            else:
                refusals.append(outcome)
        return rows, refusals, overruled

    def _payment_row(self, event: Event) -> Row | Refusal:
        users = self.lookups.user_ids
        reasons = [
            Reason(field=field, code="unknown_user", message=f"unknown {field} '{value}': no such user", input=value)
            for field, value in (("sender_id", event.sender), ("receiver_id", event.receiver))
            if value not in users
        ]
        if event.currency not in self.lookups.currency_codes:
            reasons.append(Reason(field="currency_code", code="unknown_currency", input=event.currency,
                                  message=f"unknown currency_code {event.currency}: not an ISO 4217 currency "
                                          "payments are made in"))
        if reasons:
            return Refusal(event.source, reasons, "UnknownReference", transaction_id=event.transaction_id)
        origin = event.source.header(SOURCE_HEADER)
        return Row(
            transaction_id=event.transaction_id,
            sender_id=event.sender,
            receiver_id=event.receiver,
            amount=event.amount,
            currency_code=event.currency,
            transaction_date=event.transaction_date,
            status=event.status,
            is_suspicious=event.amount > self.suspicious_above,
            source="generator" if origin == SOURCE_GENERATOR else "manual",
            import_id=None,
            import_line=None,
        )

    def _import_row(self, event: Event) -> Row | Refusal:
        by_name = self.lookups.user_by_name
        reasons = [
            Reason(field=field, code="unknown_user", message=f"unknown username '{value}' in {field}", input=value)
            for field, value in (("username_sender", event.sender), ("username_receiver", event.receiver))
            if value not in by_name
        ]
        currency = self.lookups.currency_by_alpha.get(event.currency)
        if currency is None:
            reasons.append(Reason(field="currency", code="unknown_currency", input=event.currency,
                                  message=f"unknown currency '{event.currency}': not an ISO 4217 currency payments are "
                                          "made in"))
        if reasons:
            return Refusal(event.source, reasons, "UnknownReference", transaction_id=event.transaction_id,
                           import_id=event.import_id, import_line=event.import_line)
        return Row(
            transaction_id=event.transaction_id,
            sender_id=by_name[event.sender],
            receiver_id=by_name[event.receiver],
            amount=event.amount,
            currency_code=currency,
            transaction_date=event.transaction_date,
            status=event.status,
            # The platform's judgement, not the sender's: the same threshold as for the payments topic.
            is_suspicious=event.amount > self.suspicious_above,
            source="csv_import",
            import_id=event.import_id,
            import_line=event.import_line,
        )
