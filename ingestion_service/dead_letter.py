"""The dead-letter topic: each refused message as it arrived (key, bytes, headers), with headers saying where it
came from and why it was refused, named as Kafka Connect names them, so existing tools can read them."""

from __future__ import annotations

from confluent_kafka import KafkaError, Producer

from payments_core.errors import TransientError

from .records import Refusal

__all__ = ["BrokerUnavailable", "DeadLetters", "dead_letter_headers"]

PREFIX = "__connect.errors."


class BrokerUnavailable(TransientError):
    """A dead-letter message was not confirmed by the broker; the batch's offsets must not be committed."""


def dead_letter_headers(refusal: Refusal) -> list[tuple[str, bytes]]:
    source = refusal.source
    context = [
        (PREFIX + "topic", source.topic),
        (PREFIX + "partition", str(source.partition)),
        (PREFIX + "offset", str(source.offset)),
        (PREFIX + "stage", "VALUE_CONVERTER" if refusal.error_class == "ContractError" else "TASK_PUT"),
        (PREFIX + "class.name", "ingestion_service"),
        (PREFIX + "exception.class.name", refusal.error_class),
        (PREFIX + "exception.message", refusal.summary()),
        # The same reasons, field by field, as JSON: [{"field", "code", "message", "input"}].
        ("payments.errors.reasons", refusal.reasons_json()),
    ]
    own = [(key, value) for key, value in source.headers if not key.startswith(PREFIX)]
    return own + [(key, value.encode()) for key, value in context]


class DeadLetters:
    def __init__(self, producer_config: dict, topic: str, timeout: float = 30.0):
        self.producer = Producer(producer_config)
        self.topic = topic
        self.timeout = timeout

    def publish(self, refusals: list[Refusal]) -> None:
        """Send every refusal and wait until the broker has confirmed each one; raise BrokerUnavailable if not."""
        if not refusals:
            return
        failures: list[KafkaError] = []

        def delivered(error, _message):
            if error is not None:
                failures.append(error)

        for refusal in refusals:
            self.producer.produce(self.topic, key=refusal.source.key, value=refusal.source.value,
                                  headers=dead_letter_headers(refusal), on_delivery=delivered)
            self.producer.poll(0)
        left = self.producer.flush(self.timeout)
        if left or failures:
            reason = failures[0].str() if failures else f"{left} not confirmed within {self.timeout:.0f} s"
            raise BrokerUnavailable(f"dead-letter topic {self.topic!r}: {reason}")
