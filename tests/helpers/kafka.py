"""Sending to and reading from the real broker in tests: every message confirmed, never trusting watermarks."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer

from .waiting import unique

__all__ = ["produce", "produce_records", "read_topic"]


def produce(bootstrap, topic, messages, headers=None):
    """Send (key, value) pairs and wait until the broker confirmed every one."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    failures = []
    for key, value in messages:
        producer.produce(topic, key=key, value=value, headers=headers,
                         on_delivery=lambda err, _msg: failures.append(err) if err else None)
        producer.poll(0)
    assert producer.flush(30) == 0 and not failures, failures


def produce_records(bootstrap, topic, records):
    """Send records given as produce() arguments (value, key, headers, timestamp, partition), each confirmed.

    The producer takes messages up to 4 MB, so that a test can send what a careless producer would."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                         "message.max.bytes": 4_000_000})
    failures = []
    for record in records:
        producer.produce(topic, **record, on_delivery=lambda err, _msg: failures.append(err) if err else None)
        producer.poll(0)
    assert producer.flush(30) == 0 and not failures, failures


def read_topic(bootstrap, topic, count, timeout=30.0, then_wait=0.0):
    """Read `count` messages from the start of `topic` (counting what arrives, never trusting watermarks).

    With `then_wait`, go on reading that many seconds more and fail if anything else arrives.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 2000, "heartbeat.interval.ms": 500})
    consumer.subscribe([topic])
    found = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            for message in consumer.consume(count - len(found), 0.5):
                if not message.error():
                    found.append(message)
        settle = time.monotonic() + then_wait
        while time.monotonic() < settle:
            found += [m for m in consumer.consume(10, 0.2) if not m.error()]
    finally:
        consumer.close()
    assert len(found) == count, f"read {len(found)} messages from {topic}, expected {count}"
    return found
