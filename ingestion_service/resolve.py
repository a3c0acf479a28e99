"""The second step from Kafka messages to rows: what the events refer to (users, currencies), which only the
database knows. Runs on a writer thread, before the batch's transaction: data flows one way,
read -> parse -> resolve -> write -> commit. The look-ups (lookups.py) answer from their cache, or with at most
two queries on a connection of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from payments_core.wire import SOURCE_GENERATOR, SOURCE_HEADER

from . import refusals
from .lookups import Lookups
from .records import Event, Refusal, Row, Source

__all__ = ["Resolved", "Resolver"]

Written = tuple[Row, Source]


@dataclass
class Resolved:
    """A batch's events resolved: a row for each whose users and currency exist, a refusal for each other, and the
    import rows whose sender said `is_suspicious` otherwise than the platform judges (their row has its flag)."""

    rows: list[Written] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    overruled: list[Written] = field(default_factory=list)


class Resolver:
    """Rows for the events whose users and currency exist; refusals naming what does not."""

    def __init__(self, suspicious_above: Decimal, lookups: Lookups):
        self.suspicious_above = suspicious_above
        self.lookups = lookups

    def resolve(self, events: list[Event]) -> Resolved:
        """Runs at most two queries, for what the cache lacks. Raises DatabaseUnavailable when PostgreSQL cannot
        answer now."""
        payments = [e for e in events if e.import_id is None]
        imports = [e for e in events if e.import_id is not None]
        self.lookups.fetch_missing(
            usernames={name for e in imports for name in (e.sender, e.receiver)},
            user_ids={uid for e in payments for uid in (e.sender, e.receiver)},
            currency_alphas={e.currency for e in imports},
            currency_codes={e.currency for e in payments},
        )
        rows, unresolved, overruled = [], [], []
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
                unresolved.append(outcome)
        return Resolved(rows, unresolved, overruled)

    def _payment_row(self, event: Event) -> Row | Refusal:
        users = self.lookups.user_ids
        unknown = [(field, value) for field, value in (("sender_id", event.sender), ("receiver_id", event.receiver))
                   if value not in users]
        unknown_currency = event.currency not in self.lookups.currency_codes
        if unknown or unknown_currency:
            return refusals.unknown_references(event, unknown, unknown_currency)
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
            topic=event.source.topic,
            partition=event.source.partition,
            offset=event.source.offset,
        )

    def _import_row(self, event: Event) -> Row | Refusal:
        by_name = self.lookups.user_by_name
        unknown = [(field, value) for field, value in (("username_sender", event.sender),
                                                       ("username_receiver", event.receiver))
                   if value not in by_name]
        currency = self.lookups.currency_by_alpha.get(event.currency)
        if unknown or currency is None:
            return refusals.unknown_references(event, unknown, currency is None)
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
            topic=event.source.topic,
            partition=event.source.partition,
            offset=event.source.offset,
        )
