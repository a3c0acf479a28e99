"""Publishing the stream: at a steady rate (or as fast as the broker takes), each message confirmed by its
delivery report, failures logged with their reason and counted."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Producer

from payments_core.kafka import produce_when_room
from payments_core.wire import SOURCE_GENERATOR, SOURCE_HEADER

from .payments import Generated

__all__ = ["Pacer", "Report", "publish"]

log = logging.getLogger(__name__)

SOURCE_HEADERS = [(SOURCE_HEADER, SOURCE_GENERATOR)]  # the ingestion service records source = generator
CHUNK = 10_000  # events produced between two polls for delivery reports, at full speed


class Pacer:
    """How many events may have been sent by now, at `rate` per second (0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.clock = rate, clock
        self.start = clock()

    def allowed(self) -> int:
        if self.rate == 0:
            return sys.maxsize
        return int((self.clock() - self.start) * self.rate) + 1

    def wait(self, sent: int) -> float:
        """Seconds until event number `sent` (counting from 0) is due."""
        if self.rate == 0:
            return 0.0
        return max(0.0, self.start + sent / self.rate - self.clock())


@dataclass
class Report:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    kinds: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)

    @property
    def all_delivered(self) -> bool:
        return self.failed == 0 and self.delivered == self.sent

    def line(self) -> str:
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.kinds.items()))
        return f"{self.sent:,} sent ({kinds or 'none'}), {self.delivered:,} confirmed, {self.failed:,} failed"


class Progress:
    """A progress line on standard error: redrawn in a terminal, one line every 10 seconds in a log."""

    def __init__(self, report: Report, count: int):
        self.report, self.count = report, count
        self.tty = sys.stderr.isatty()
        self.every = 0.2 if self.tty else 10.0
        self.started = self.last = time.monotonic()

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = self.report.delivered / max(now - self.started, 1e-9)
        total = f"/{self.count:,}" if self.count else ""
        text = f"{self.report.sent:,}{total} sent, {self.report.delivered:,} confirmed, " \
               f"{self.report.failed:,} failed, {rate:,.0f} events/s"
        if self.tty:
            print(f"\r{text}", end="\n" if force else "", file=sys.stderr, flush=True)
        else:
            log.info("progress %s", text)


def _replaced(producer: Producer, config: dict, why: str) -> Producer:
    """A new producer for one that may be stuck: after a broker restart (or a long pause) an idempotent producer can
    stay refused for good, its producer id unknown to the broker, reporting nothing but time-outs. What it still
    held is counted as failed."""
    log.warning("replacing the Kafka producer with a new one after %r; events it still held count as failed", why)
    producer.purge()
    producer.flush(0)
    return Producer(config)


def publish(stream: Iterator[Generated], producer_config: dict, topic: str, rate: float, count: int,
            stop: threading.Event, show_progress: bool = True, flush_timeout: float = 30.0,
            report: Report | None = None) -> Report:
    """Publish `count` events (0: until `stop` is set) at `rate` per second; then wait for every delivery report.

    Never raises for a delivery failure: the report counts it, and the first failure of each kind is logged.
    The broker confirms every event; Python hears only of failures (a callback per success would cost more
    than building the event), so once the producer is flushed, delivered = sent - failed.
    """
    report = report if report is not None else Report()  # given: read meanwhile (metrics.py)
    broken: list[str] = []  # why the producer is to be replaced, once a failure says it may be stuck

    def failed(error, _message):
        report.failed += 1
        if report.failures[error.str()] == 0:
            log.error("delivery failed: %s (further failures of this kind are counted, not logged)", error.str())
        report.failures[error.str()] += 1
        if error.fatal() or error.code() == KafkaError._MSG_TIMED_OUT:
            broken.append(error.str())

    config = {**producer_config, "on_delivery": failed, "delivery.report.only.error": True}
    producer = Producer(config)
    pacer = Pacer(rate)
    progress = Progress(report, count) if show_progress else None
    while not stop.is_set() and (count == 0 or report.sent < count):
        if broken:
            producer = _replaced(producer, config, broken[0])
            broken.clear()
        due = min(pacer.allowed(), count or sys.maxsize) - report.sent
        if due <= 0:
            producer.poll(min(pacer.wait(report.sent), 0.1))  # serve delivery reports while waiting
            continue
        for _ in range(min(due, CHUNK)):
            event = next(stream)
            produce_when_room(producer, topic, event.value, event.key, SOURCE_HEADERS)
            report.sent += 1
            report.kinds[event.kind] += 1
        producer.poll(0)
        if progress:
            report.delivered = report.sent - report.failed - len(producer)  # len: not yet confirmed
            progress.tick()
    left = producer.flush(flush_timeout)
    if left:
        log.error("%d events not confirmed within %.0f s of stopping", left, flush_timeout)
        report.failed += left
        report.failures["not confirmed before stopping"] += left
    report.delivered = report.sent - report.failed
    if progress:
        progress.tick(force=True)
    return report
