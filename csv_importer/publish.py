"""Publishing an import's rows: every one confirmed by the broker before success is claimed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import Producer

from payments_core.kafka import produce_when_room

__all__ = ["Published", "publish_rows"]


@dataclass
class Published:
    sent: int = 0
    failed: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def confirmed(self) -> int:
        return self.sent - self.failed


def publish_rows(config: dict, topic: str, rows: Iterable[tuple], timeout: float = 60.0) -> Published:
    """Send every (key, value) or (key, value, headers) and wait for the broker; failures are counted with their
    reason, never raised.

    A producer of its own per import, so that its count of unconfirmed messages is this import's alone. The
    broker confirms each message; Python hears only of failures, which keeps a million rows fast.
    """
    result = Published()

    def failed(error, _message):
        result.failed += 1
        result.reasons[error.str()] += 1

    producer = Producer({**config, "on_delivery": failed, "delivery.report.only.error": True})
    for key, value, *headers in rows:
        produce_when_room(producer, topic, value, key, headers[0] if headers else None)
        result.sent += 1
        if result.sent % 10_000 == 0:
            producer.poll(0)
    left = producer.flush(timeout)
    if left:
        result.failed += left
        result.reasons[f"not confirmed within {timeout:.0f} s"] += left
    return result
