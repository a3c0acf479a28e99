"""Reconciling what was sent with what the ingestion service stored: none missing, none wrong, none extra."""

import uuid
from decimal import Decimal

from sqlalchemy import text

from tests.helpers.events import USERS, message, payment
from tests.helpers.kafka import produce
from tests.helpers.waiting import wait_until

__all__ = ["Payments", "healthy"]


class Payments:
    """Payments sent to the topic, each with its own amount, to be reconciled against the table."""

    def __init__(self, settings):
        self.settings = settings
        self.sent: dict[uuid.UUID, tuple[Decimal, str]] = {}

    def send(self, count: int) -> None:
        events = []
        for _ in range(count):
            n = len(self.sent) + len(events)
            event = payment(sender_id=str(USERS[n % 300].user_id), receiver_id=str(USERS[(n + 1) % 300].user_id),
                            amount=f"{n + 1}.{n % 100:02d}", status=("pending", "completed", "failed")[n % 3])
            events.append(event)
        produce(self.settings.kafka_bootstrap_servers, self.settings.payments_topic, [message(e) for e in events])
        for e in events:
            self.sent[uuid.UUID(e["transaction_id"])] = (Decimal(e["amount"]), e["status"])

    def stored(self, engine) -> dict[uuid.UUID, tuple[Decimal, str]]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT transaction_id, amount, status FROM transactions"))
            return {transaction_id: (amount, status) for transaction_id, amount, status in rows}

    def all_stored(self, engine, timeout: float = 120) -> None:
        """Wait until the table holds exactly what was sent; then nothing may have been refused either."""
        wait_until(lambda: len(self.stored(engine)) >= len(self.sent), timeout=timeout,
                   message=f"all {len(self.sent)} payments stored")
        stored = self.stored(engine)
        missing = self.sent.keys() - stored.keys()
        wrong = {i for i in self.sent.keys() & stored.keys() if stored[i] != self.sent[i]}
        extra = stored.keys() - self.sent.keys()
        assert not missing and not wrong and not extra, (len(missing), len(wrong), len(extra))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM rejected_events")) == 0


def healthy(running) -> bool:
    status, body = running.service.metrics.health()
    return status == 200
