"""The dead-letter topic: each refused message as it arrived (key, bytes, headers), with headers saying where it
came from and why it was refused, named as Kafka Connect names them, so existing tools can read them.

A copy never fails for its size: a message too large for the topic is sent cut, with a header saying so (the
whole message's size is also in `rejected_events.payload_size`)."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import KafkaError, KafkaException, Producer

from payments_core.contract import MAX_MESSAGE_BYTES
from payments_core.errors import TransientError

from .records import Refusal

__all__ = ["TRUNCATED_HEADER", "BrokerUnavailable", "DeadLetters", "dead_letter_headers"]

log = logging.getLogger(__name__)

PREFIX = "__connect.errors."
# Says that the copy was cut, and where: "value: kept 524288 of 1048600 bytes".
TRUNCATED_HEADER = "payments.errors.truncated"

# A copy stays well under the broker's default limit of a message (about 1 MB) with its headers added.
MAX_VALUE_BYTES = 512 * 1024
MAX_KEY_BYTES = 16 * 1024
MAX_OWN_HEADERS_BYTES = 64 * 1024

# Errors of one message that sending it again as it is cannot cure; it is then sent small, or given up on.
PERMANENT = {KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_MSG_SIZE, KafkaError.INVALID_MSG,
             KafkaError.INVALID_RECORD, KafkaError.RECORD_LIST_TOO_LARGE, KafkaError._BAD_MSG}


class BrokerUnavailable(TransientError):
    """A dead-letter message was not confirmed by the broker; the batch's offsets must not be committed."""


def dead_letter_headers(refusal: Refusal, own_limit: int = MAX_OWN_HEADERS_BYTES) -> list[tuple[str, bytes]]:
    """The message's own headers (as many as fit in `own_limit` bytes), then where it came from and why."""
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
    own, size = [], 0
    for key, value in source.headers:
        size += len(key) + len(value or b"")
        if key.startswith(PREFIX) or size > own_limit:
            continue
        own.append((key, value))
    return own + [(key, value.encode()) for key, value in context]


def _copy(refusal: Refusal, value_limit: int, key_limit: int, own_limit: int) -> dict:
    """The arguments of produce() for the refusal's copy, cut to the limits, with a header if anything was cut."""
    source = refusal.source
    key, value = source.key, source.value
    cut = []
    if key is not None and len(key) > key_limit:
        cut.append(f"key: kept {key_limit} of {len(key)} bytes")
        key = key[:key_limit]
    if len(value) > value_limit:
        cut.append(f"value: kept {value_limit} of {len(value)} bytes")
        value = value[:value_limit]
    headers = dead_letter_headers(refusal, own_limit)
    if cut:
        headers.append((TRUNCATED_HEADER, "; ".join(cut).encode()))
    return {"key": key, "value": value, "headers": headers}


FULL = (MAX_VALUE_BYTES, MAX_KEY_BYTES, MAX_OWN_HEADERS_BYTES)
SMALL = (MAX_MESSAGE_BYTES, 1024, 0)  # when a topic takes less than the broker's default


class DeadLetters:
    def __init__(self, producer_config: dict, topic: str, timeout: float = 30.0):
        # A copy not confirmed within the timeout fails then, rather than after librdkafka's default of 5 minutes.
        self.config = {**producer_config, "message.timeout.ms": int(timeout * 1000)}
        self.producer = Producer(self.config)
        self.topic = topic
        self.timeout = timeout
        # One batch's copies at a time (there are several writer threads): a producer replaced after a failure must
        # not purge the copies of another batch in flight.
        self._one_at_a_time = threading.Lock()

    def _new_producer(self, why: str) -> None:
        """Replace the producer: after a broker restart, an idempotent producer can stay refused for good (its
        producer id unknown to the new broker) while reporting only time-outs; a new one works at once."""
        log.warning("dead-letter producer replaced by a new one (%s)", why)
        self.producer.purge()
        self.producer.flush(0)
        self.producer = Producer(self.config)

    def publish(self, refusals: list[Refusal]) -> None:
        """Send every refusal and wait until the broker has confirmed each one; raise BrokerUnavailable if not.

        A copy the topic refuses for what it is (its size, its form) is sent again cut small and without the
        message's own headers; one refused even then is logged and given up on: the refusal itself is in
        `rejected_events`, so nothing is lost.
        """
        if not refusals:
            return
        with self._one_at_a_time:
            refused = self._send(refusals, FULL)
            given_up = self._send([r for r, _ in refused], SMALL) if refused else []
        for refusal, why in given_up:
            log.error("dead-letter copy of topic=%s partition=%s offset=%s refused (%s); "
                      "the refusal is recorded in rejected_events only", refusal.source.topic,
                      refusal.source.partition, refusal.source.offset, why)

    def _send(self, refusals: list[Refusal], limits: tuple[int, int, int]) -> list[tuple[Refusal, str]]:
        """Send and wait; return the copies refused for good, with why. Raise BrokerUnavailable for the rest."""
        refused: list[tuple[Refusal, str]] = []
        transient: list[KafkaError] = []

        def delivered(refusal: Refusal):
            def report(error, _message):
                if error is None:
                    return
                if error.code() in PERMANENT:
                    refused.append((refusal, error.str()))
                else:
                    transient.append(error)
            return report

        for refusal in refusals:
            copy = _copy(refusal, *limits)
            while True:
                try:
                    self.producer.produce(self.topic, on_delivery=delivered(refusal), **copy)
                    break
                except BufferError:
                    self.producer.poll(0.05)  # the local queue is full: let deliveries drain it
                except KafkaException as e:
                    delivered(refusal)(e.args[0], None)
                    break
                except (TypeError, ValueError) as e:  # a header the client cannot send as it is
                    refused.append((refusal, f"{type(e).__name__}: {e}"))
                    break
            self.producer.poll(0)
        left = self.producer.flush(self.timeout)
        if left or transient:
            reason = transient[0].str() if transient else f"{left} not confirmed within {self.timeout:.0f} s"
            self._new_producer(reason)
            raise BrokerUnavailable(f"dead-letter topic {self.topic!r}: {reason}")
        return refused
