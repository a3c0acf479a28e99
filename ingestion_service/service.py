"""The consume loop: read a batch and parse it, then (on a writer thread) resolve it and write it in one database
transaction, send its refusals to the dead-letter topic, and only then commit its offsets.

Delivery is at-least-once and the upsert is idempotent, so every transaction lands exactly once. Batches are
written on writer threads, each in its own transaction on its own connection, while the next one is read and
parsed: PostgreSQL works on two batches at once, on both cores. Yet the database changes as if one writer wrote
them in the order read: two batches that share a transaction are never written at once, and a batch commits only
after every batch read before it (the import progress counts offsets in order); its offsets too. When PostgreSQL
(or the broker, for dead letters) is unavailable, the batches are kept, the partitions paused (the instance stays
in its group), and the oldest is retried with back-off.

The loop's state (state.py) decides what it does, and every change of state is logged once. A rebalance in any
state leaves the instance consuming what it then holds; a watchdog (watchdog.py) ends the process when, despite
that, nothing has been committed for too long while messages wait.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from payments_core.errors import DatabaseUnavailable, TransientError
from payments_core.kafka import CLIENT_LOG, producer_config
from payments_core.totals import TotalsRefresher

from . import refusals
from .dead_letter import BrokerUnavailable, DeadLetters
from .lookups import Lookups
from .metrics import Metrics
from .parse import Parser
from .records import Event, Refusal, Source
from .resolve import Resolved, Resolver
from .retention import Retention
from .settings import IngestionSettings
from .sink import Outcome, PostgresSink
from .state import Event as LoopEvent
from .state import State, next_state
from .topics import TopicCheck
from .watchdog import Watchdog, exit_process

__all__ = ["Batch", "IngestionService"]

log = logging.getLogger(__name__)

# Commit errors that mean "these partitions are no longer yours": the rows are written, the next owner reads
# the messages again, and the idempotent upsert makes that harmless.
GROUP_MOVED_ON = {KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
                  KafkaError._NO_OFFSET, KafkaError._STATE}


# Batches written at once, each in its own transaction on its own connection. With one, PostgreSQL idled while
# the writer resolved, encoded and committed, and one instance reached 0.68 of a plain COPY on two cores; two
# keep the server busy through those steps (bench/ingestion.py).
WRITERS = 2
# The batches written, and one more read and parsed meanwhile.
MAX_HELD = WRITERS + 1
# How long a written batch waits, in its open transaction, for the batches read before it to commit. Its locks
# are invisible to PostgreSQL's deadlock detector while it waits in Python: a third session (a migration, an
# instance that took over a partition) queued behind them, and ahead of the earlier batch, would close a cycle
# that only a timeout breaks. So it waits briefly, then rolls back and is written again once it is the oldest.
TURN_WAIT_S = 1.0
# How long a read waits when a batch is being written: short, so that the written one is committed promptly.
READ_WHILE_WRITING_S = 0.02
# The longest the broker holds a fetch for more messages (librdkafka's fetch.wait.max.ms; see the consumer).
FETCH_WAIT_MS = 20


@dataclass
class Batch:
    """Messages read together, and how far their journey has gone (each stage is done once)."""

    sources: list[Source]
    events: list[Event]
    refusals: list[Refusal]
    read_at: float = field(default_factory=time.monotonic)
    # The batches read before it and not yet written when its write started: it commits after them.
    earlier: list[Batch] = field(default_factory=list)
    settled: threading.Event = field(default_factory=threading.Event)  # the last write's database stage has ended
    # Two batches that share a transaction are not written at once: its versions are written in the order read.
    transaction_ids: frozenset[str] = field(init=False)
    written: int | None = None  # rows upserted, once the database transaction has committed
    collapsed: int = 0  # rows replaced by a later version of their transaction within the batch
    published: bool = False  # refusals confirmed by the dead-letter topic
    future: Future | None = None  # the write in progress on the writer thread

    def __post_init__(self) -> None:
        self.transaction_ids = frozenset(e.transaction_id for e in self.events)

    def offsets(self) -> list[TopicPartition]:
        """The next offset to read on each partition the batch covers."""
        last: dict[tuple[str, int], int] = {}
        for s in self.sources:
            last[(s.topic, s.partition)] = max(s.offset, last.get((s.topic, s.partition), -1))
        return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]


class EarlierNotWritten(TransientError):
    """A batch read before this one is not written (it failed, or is slow): this one must not commit before it."""


class Backoff:
    def __init__(self, first: float = 0.5, most: float = 30.0):
        self.first, self.most, self.current = first, most, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.current * 2, self.most)
        return delay

    def reset(self) -> None:
        self.current = self.first


class IngestionService:
    def __init__(self, settings: IngestionSettings, *, consumer_overrides: dict | None = None,
                 on_committed: Callable[[Batch, datetime], None] | None = None,
                 on_wedged: Callable[[str], None] = exit_process):
        self.settings = settings
        self.topics = [settings.payments_topic, settings.imports_topic]
        self.metrics = Metrics(settings.ingestion_session_timeout_ms / 1000, settings.ingestion_stall_seconds)
        self.parser = Parser(settings)  # on the reader thread
        timeout = settings.ingestion_statement_timeout_seconds
        # One look-up connection for the writer threads, and one connection per writer, taken for a batch's write
        # and given back after it.
        self.lookups = Lookups(settings.database_url, timeout)
        self.resolver = Resolver(settings.suspicious_amount_threshold, self.lookups)
        self.sinks = [PostgresSink(settings.database_url, timeout) for _ in range(WRITERS)]
        self.free_sinks: queue.SimpleQueue[PostgresSink] = queue.SimpleQueue()
        for sink in self.sinks:
            self.free_sinks.put(sink)
        self.metrics.doing = self._longest_doing
        self.totals = TotalsRefresher(settings.database_url, settings.totals_refresh_seconds,
                                      on_pending_beyond_sla=self.metrics.beyond_sla.set)
        deleted = self.metrics.retention_deleted
        self.retention = Retention(settings.database_url, settings.retention_days(), settings.retention_check_seconds,
                                   on_deleted=lambda table, rows: deleted.labels(table).inc(rows))
        self.dead_letters = DeadLetters(producer_config(settings), settings.dlq_topic)
        session_ms = settings.ingestion_session_timeout_ms
        self.consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": settings.ingestion_group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # A transactional producer's aborted messages are never read. (The local Tansu broker does not honour
            # it; Apache Kafka does.)
            "isolation.level": "read_committed",
            # A topic is created by `payments setup`, with TOPIC_PARTITIONS partitions, never by subscribing to it.
            "allow.auto.create.topics": False,
            # How long the broker may hold a fetch while it has less than asked for. librdkafka's 500 ms made the
            # local broker answer a steady stream late: p50 173-182 ms and p99 387-399 ms from produced to committed
            # at 1,000 events/s, against 55 ms and 129-160 ms with 20 (bench/ingestion.py, alternating runs). An
            # idle consumer then asks 50 times a second, a small request each time.
            "fetch.wait.max.ms": FETCH_WAIT_MS,
            "session.timeout.ms": session_ms,
            "heartbeat.interval.ms": max(100, min(3000, session_ms // 3)),
            "logger": CLIENT_LOG,
            # Once a second, librdkafka says what it knows (brokers, partitions, lag): what /health reports.
            "statistics.interval.ms": 1000,
            "stats_cb": self._statistics,
            "error_cb": self._client_error,
            **(consumer_overrides or {}),
        })
        self.on_committed = on_committed
        # The only threads that touch the database connections and the dead-letter producer.
        self.writer = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="ingestion-writer")
        self.held: deque[Batch] = deque()  # read but not yet committed, oldest first
        self.state = State.RUNNING
        self.topic_check = TopicCheck(settings.kafka_bootstrap_servers, self.topics, settings.dlq_topic,
                                      settings.topic_partitions, self.metrics)
        self.watchdog = (Watchdog(self.metrics, settings.ingestion_watchdog_seconds, on_wedged)
                         if settings.ingestion_watchdog_seconds else None)
        self.last_subscribed = 0.0
        self.first_rejoin_after = settings.ingestion_session_timeout_ms / 1000 * 2
        self.rejoin_after = self.first_rejoin_after  # doubles while joining again finds no partition

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; then finish the batches in hand, commit, and leave the group."""
        self._subscribe()
        self.totals.start()
        self.retention.start()
        self.topic_check.start()
        if self.watchdog is not None:
            self.watchdog.start()
        self.metrics.started = True
        backoff = Backoff()
        log.info("consuming topics=%s group=%s", ",".join(self.topics), self.settings.ingestion_group_id)
        try:
            while not stop.is_set():
                self._step(backoff, stop)
            self._move(LoopEvent.STOP)
            self._flush_held("stopping")
        finally:
            self.metrics.started = False
            if self.watchdog is not None:
                self.watchdog.stop()
            self.topic_check.stop()
            self.consumer.close()
            self.writer.shutdown(wait=True)
            for sink in self.sinks:
                sink.close()
            self.lookups.close()
            self.totals.stop()
            self.retention.stop()
            log.info("stopped")

    def _subscribe(self) -> None:
        self.consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._lost)
        self.last_subscribed = time.monotonic()
        self.metrics.set_partitions(0)

    def _rejoin_if_forgotten(self) -> None:
        """Join the group again when this instance has held no partition for longer than the session timeout
        while the topics have partitions (as the broker's metadata shows them, topics.py): after a broker restart
        that lost the topics and the group (Tansu keeps them in memory), or members joining and leaving within a
        join (Tansu), the client otherwise waits for a rebalance that never comes."""
        now, wait = time.monotonic(), self.rejoin_after
        if (self.metrics.assigned == 0 and self.metrics.topic_partitions > 0 and self.metrics.broker_up
                and now - self.metrics.unassigned_since > wait and now - self.last_subscribed > wait):
            log.warning("no partition held for %.0f s while the topics have %d; joining the group again",
                        now - self.metrics.unassigned_since, self.metrics.topic_partitions)
            self.consumer.unsubscribe()
            self._subscribe()
            # An instance beyond the partition count rightly holds none: it must not rebalance the group often.
            self.rejoin_after = min(wait * 2, 300.0)

    def _step(self, backoff: Backoff, stop: threading.Event) -> None:
        self.metrics.loop_ran()
        self._rejoin_if_forgotten()
        if self.state.paused and not self.held:
            self._move(LoopEvent.NOTHING_HELD)  # the batches it waited for went with their partitions
        self._start_writes()
        if len(self.held) < MAX_HELD and not self.state.paused:
            # The read polls the consumer, which serves rebalances: every step that holds nothing waits here.
            batch = self._read(READ_WHILE_WRITING_S if self.held else self.settings.ingestion_batch_max_wait_ms / 1000)
            if batch is not None:
                self.held.append(batch)
                self._count_held()
        if not self.held:
            return
        oldest = self.held[0]
        if oldest.future is not None and (oldest.future.done() or len(self.held) == MAX_HELD or self.state.paused):
            try:
                self._finish(oldest)
                backoff.reset()
            except TransientError as e:
                self._move(LoopEvent.DATABASE_FAILED if isinstance(e, DatabaseUnavailable) else LoopEvent.BROKER_FAILED,
                           str(e))
                self._wait(backoff.next(), stop)

    def _read(self, timeout: float) -> Batch | None:
        messages = self.consumer.consume(self.settings.ingestion_batch_max_messages, timeout)
        sources = []
        for message in messages:
            if message.error():
                self._broker_error(message.error())
                continue
            sources.append(Source.of(message))
        if not sources:
            return None
        events, refusals = [], []
        for source in sources:
            outcome = self.parser.parse(source)
            (events if isinstance(outcome, Event) else refusals).append(outcome)
        return Batch(sources, events, refusals)

    def _start_writes(self) -> None:
        """Start writing held batches in the order read, as many as there are writers: a batch only while no
        earlier one not yet written shares a transaction with it or has failed (that one goes first), and while
        paused only a batch with no earlier one not yet written (the oldest, again after a failure)."""
        earlier: list[Batch] = []
        in_transactions: set[str] = set()
        writing = 0
        for batch in self.held:
            if batch.future is None:
                if (writing == WRITERS or in_transactions & batch.transaction_ids
                        or (earlier and self.state.paused) or any(b.future.done() for b in earlier)):
                    return
                self._submit(batch, earlier)
            if batch.written is None:
                earlier.append(batch)
                in_transactions |= batch.transaction_ids
            writing += not batch.future.done()

    def _submit(self, batch: Batch, earlier: list[Batch]) -> None:
        batch.earlier = list(earlier)
        if batch.written is None:  # else only its dead letters are left to send
            batch.settled.clear()
        batch.future = self.writer.submit(self._write, batch)

    def _in_turn(self, batch: Batch) -> None:
        """On a writer thread, before `batch` commits: wait until every batch read before it has committed. Raises
        EarlierNotWritten, and `batch` is rolled back and written again once it is the oldest, when one of them
        could not be written, or is still being written after TURN_WAIT_S."""
        deadline = time.monotonic() + TURN_WAIT_S
        for earlier in batch.earlier:
            if not earlier.settled.wait(max(0.0, deadline - time.monotonic())):
                raise EarlierNotWritten(f"the batch read before this one was not written within {TURN_WAIT_S:g} s")
            if earlier.written is None:
                raise EarlierNotWritten("the batch read before this one could not be written")

    def _longest_doing(self) -> tuple[str, float] | None:
        """What the write that has waited longest is doing, and since when: what /health reports."""
        doing = [d for d in (self.lookups.doing, *(sink.doing for sink in self.sinks)) if d is not None]
        return min(doing, key=lambda d: d[1], default=None)

    def _write(self, batch: Batch) -> None:
        """On a writer thread: the database transaction, then the dead letters; each stage once."""
        sink = self.free_sinks.get()
        try:
            self._write_with(sink, batch)
        finally:
            self.free_sinks.put(sink)

    def _write_with(self, sink: PostgresSink, batch: Batch) -> None:
        if batch.written is None:
            try:
                outcome = self._write_isolating(sink, batch.events, batch.refusals, lambda: self._in_turn(batch))
                batch.written, batch.refusals = len(outcome.written), outcome.refusals
            finally:
                batch.settled.set()  # after `written`: the batches after it read both
            batch.collapsed = sum(outcome.collapsed.values())
            self._count(batch, outcome)
        if not batch.published:
            self.dead_letters.publish(batch.refusals)
            batch.published = True

    def _write_isolating(self, sink: PostgresSink, events: list[Event], refused: list[Refusal],
                         in_turn: Callable[[], None]) -> Outcome:
        """Resolve the events and write the messages in one transaction; if that fails for a reason that is not the
        database's own, each half in its own, down to the one message to blame, which is refused as `internal`.

        Whatever a message holds, it cannot stop the others: one bad message costs about 2·log2(batch)
        transactions. A TransientError (the database or the broker is down) propagates: the whole batch is retried.
        """
        try:
            return sink.write(self.resolver.resolve(events), refused, in_turn)
        except TransientError:
            raise
        except Exception as error:  # noqa: BLE001 — contained to the message(s) that caused it
            items: list[Event | Refusal] = [*events, *refused]
            if len(items) > 1:
                log.warning("writing %d messages failed (%s: %s); writing them in halves to find the cause",
                            len(items), type(error).__name__, error)
                half = len(items) // 2
                return (self._write_part(sink, items[:half], in_turn)
                        .add(self._write_part(sink, items[half:], in_turn)))
            return self._set_aside(sink, items[0], error, in_turn)

    def _write_part(self, sink: PostgresSink, items: list[Event | Refusal], in_turn: Callable[[], None]) -> Outcome:
        return self._write_isolating(sink, [i for i in items if isinstance(i, Event)],
                                     [i for i in items if isinstance(i, Refusal)], in_turn)

    def _set_aside(self, sink: PostgresSink, item: Event | Refusal, error: Exception,
                   in_turn: Callable[[], None]) -> Outcome:
        source = item.source
        log.error("topic=%s partition=%s offset=%s failed alone (%s: %s); refused as internal",
                  source.topic, source.partition, source.offset, type(error).__name__, error)
        refusal = refusals.internal(item, error)
        try:
            return sink.write(Resolved(), [refusal], in_turn)
        except TransientError:
            raise
        except Exception as again:  # noqa: BLE001 — still counted and dead-lettered; the log says why
            log.error("recording the refusal of topic=%s partition=%s offset=%s failed too (%s: %s); "
                      "it is dead-lettered only", source.topic, source.partition, source.offset,
                      type(again).__name__, again)
            return Outcome(refusals=[refusal])

    def _finish(self, batch: Batch) -> None:
        """Wait for the oldest batch's write, commit its offsets, let it go. Raises TransientError to retry."""
        try:
            batch.future.result()
        except EarlierNotWritten:
            batch.future = None  # the batches before it are committed now: written again on the next step, at once
            return
        except TransientError:
            batch.future = None  # written again, from the stage that failed, on the next step
            raise
        self._commit(batch)
        self.held.popleft()
        self.metrics.progressed()
        self._count_held()
        self._move(LoopEvent.COMMITTED)
        committed_at = datetime.now(UTC)
        self._observe(batch, committed_at)
        if self.on_committed is not None:
            self.on_committed(batch, committed_at)

    def _flush_held(self, why: str) -> None:
        """Write and commit every held batch, in order; what cannot be written now is left to be read again."""
        while self.held:
            oldest = self.held[0]
            if oldest.future is None:
                self._submit(oldest, [])
            try:
                self._finish(oldest)
            except TransientError as e:
                log.warning("%s with %d unwritten batches (%s); not committed, they will be read again",
                            why, len(self.held), e)
                self._drop_held()
                return

    def _drop_held(self) -> None:
        for batch in self.held:
            if batch.future is not None:
                batch.future.exception()  # a write in progress ends before its batch is forgotten
        self.held.clear()
        self._count_held()

    def _count_held(self) -> None:
        self.metrics.set_held(sum(len(batch.sources) for batch in self.held))

    def _commit(self, batch: Batch) -> None:
        try:
            self.consumer.commit(offsets=batch.offsets(), asynchronous=False)
        except KafkaException as e:
            error = e.args[0]
            if error.code() in GROUP_MOVED_ON:
                log.warning("offsets not committed, the group moved on (%s); the next owner reads them again",
                            error.str())
                return
            raise BrokerUnavailable(f"committing offsets failed: {error.str()}") from e

    # --- faults ------------------------------------------------------------------------------------------------

    def _move(self, event: LoopEvent, why: str = "") -> None:
        """Apply `event` to the loop's state: log a change once, and pause or resume the partitions with it."""
        old, new = self.state, next_state(self.state, event)
        if new is old:
            if new.paused:
                self.metrics.set_state(new, why)  # the same pause, perhaps for a new reason
            return
        self.state = new
        self.metrics.set_state(new, why)
        if new.paused:
            log.warning("%s (%s): %s; the batches are kept and retried, nothing is committed", new, event, why)
            self.consumer.pause(self.consumer.assignment())
        else:
            (log.info if new in (State.RUNNING, State.STOPPING) else log.warning)("%s → %s (%s)", old, new, event)
            if old.paused:
                self.consumer.resume(self.consumer.assignment())

    def _wait(self, seconds: float, stop: threading.Event) -> None:
        """Back off while polling, which keeps the group membership and serves rebalances."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set() and self.held:
            self.metrics.loop_ran()
            self.consumer.pause(self.consumer.assignment())  # partitions assigned meanwhile are paused too
            message = self.consumer.poll(0.2)
            if message is not None and not message.error():
                # Fetched before the pause took hold: read it again after the batches in hand.
                try:
                    self.consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                except KafkaException as e:  # no longer this instance's: its next owner reads it from the commit
                    log.info("not read again here (%s): %s[%d] went to another instance", e.args[0].str(),
                             message.topic(), message.partition())

    def _broker_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise KafkaException(error)
        log.warning("broker: %s", error.str())

    def _client_error(self, error: KafkaError) -> None:
        """librdkafka's errors that concern no one message: the broker's state is what matters here."""
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._broker_state(False, error.str())

    def _statistics(self, text: str) -> None:
        """Once a second, on the consume thread: the brokers' state and the lag of the partitions owned."""
        try:
            stats = json.loads(text)
            brokers = [b for b in stats.get("brokers", {}).values() if b.get("nodeid", -1) >= 0]
            lag = 0
            for topic in self.topics:
                for number, partition in stats.get("topics", {}).get(topic, {}).get("partitions", {}).items():
                    if number != "-1" and partition.get("desired"):  # a partition this instance owns, paused or not
                        lag += _unread(partition)
        except (ValueError, AttributeError, TypeError) as e:
            log.warning("unreadable client statistics (%s); health keeps what it knew", e)
            return
        self._broker_state(any(b.get("state") == "UP" for b in brokers), "no broker connection is up")
        self.metrics.observe_lag(lag)

    def _broker_state(self, up: bool, why: str) -> None:
        """Log the broker's state once per change, not once per retry."""
        if up != self.metrics.broker_up:
            if up:
                log.info("broker reachable again at %s", self.settings.kafka_bootstrap_servers)
            else:
                log.warning("broker unreachable at %s (%s); reconnecting, nothing is lost meanwhile",
                            self.settings.kafka_bootstrap_servers, why)
        self.metrics.set_broker_up(up)

    # --- rebalances --------------------------------------------------------------------------------------------

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Take the partitions, paused if the loop is (an incremental assignment), else explicitly consuming: a
        partition paused before a rebalance must not stay paused after it."""
        consumer.assign(partitions)
        self._move(LoopEvent.ASSIGNED)
        if partitions:
            (consumer.pause if self.state.paused else consumer.resume)(partitions)
            self.rejoin_after = self.first_rejoin_after
        self.metrics.set_partitions(len(partitions))
        log.info("assigned partitions=%s", _names(partitions))

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Before partitions go to another instance, write and commit what is held for them if the loop is running;
        a paused loop gives up what it holds (its next owner reads it again) and the pause ends with it."""
        if self.state.paused:
            self._drop_held()
        else:
            self._flush_held("revoked")
        self._move(LoopEvent.REVOKED)
        self.metrics.set_partitions(0)
        log.info("revoked partitions=%s", _names(partitions))

    def _lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Lost, not revoked: another instance may already own them, so nothing may be committed for them.
        self._drop_held()
        self._move(LoopEvent.LOST)
        self.metrics.set_partitions(0)
        log.warning("lost partitions=%s; what was held is read again by their next owner", _names(partitions))

    # --- counting ----------------------------------------------------------------------------------------------

    def _count(self, batch: Batch, outcome: Outcome) -> None:
        """consumed = upserted + collapsed + stale + refused, per topic."""
        for topic, n in Counter(s.topic for s in batch.sources).items():
            self.metrics.consumed.labels(topic).inc(n)
        for topic, n in Counter(source.topic for _, source in outcome.written).items():
            self.metrics.upserted.labels(topic).inc(n)
        for topic, n in outcome.collapsed.items():
            self.metrics.collapsed.labels(topic).inc(n)
        for superseded in outcome.superseded:
            self.metrics.stale.labels(superseded.source.topic, superseded.reason).inc()
            row = superseded.row
            log.info("set aside (%s): %s at %s, stored %s at %s", superseded.reason, row.status,
                     row.transaction_date.isoformat(), superseded.stored_status, superseded.stored_date.isoformat(),
                     extra=_ids(superseded.source, row.transaction_id, row.import_id, row.import_line))
        for topic, n in outcome.overruled.items():
            self.metrics.overruled.labels(topic).inc(n)
        for refusal in outcome.refusals:
            self.metrics.rejected.labels(refusal.source.topic, refusal.reasons[0].code).inc()
            source = refusal.source
            log.info("refused topic=%s partition=%d offset=%d: %s", source.topic, source.partition, source.offset,
                     refusal.summary()[:500], extra={**_ids(source, refusal.transaction_id, refusal.import_id,
                                                            refusal.import_line),
                                                     "reasons": [r.code for r in refusal.reasons]})

    def _observe(self, batch: Batch, committed_at: datetime) -> None:
        seconds = time.monotonic() - batch.read_at
        self.metrics.batch_size.observe(len(batch.sources))
        self.metrics.batch_seconds.observe(seconds)
        committed_ms = committed_at.timestamp() * 1000
        self.metrics.end_to_end.observe_many((committed_ms - s.timestamp_ms) / 1000 for s in batch.sources
                                             if s.timestamp_ms is not None)
        self.metrics.last_batch_at = time.time()
        log.info("batch messages=%d upserted=%d collapsed=%d refused=%d partitions=%s ms=%.0f",
                 len(batch.sources), batch.written, batch.collapsed, len(batch.refusals),
                 _names(batch.offsets()), seconds * 1000)


def _ids(source, transaction_id=None, import_id=None, line=None) -> dict:
    """What a log line about one message concerns (JSON logs carry it: payments_core.process.JsonLines)."""
    return {"topic": source.topic, "partition": source.partition, "offset": source.offset,
            "transaction_id": transaction_id, "import_id": import_id, "line": line}


def _unread(partition: dict) -> int:
    """Messages of an owned partition not yet read: from the read position to the end a read-committed consumer
    sees (the last stable offset). Counting from the committed offset instead would count the messages held, and a
    transaction's closing marker, which is never delivered, for ever. Before the first read, from the commit."""
    position, end = partition.get("app_offset", -1001), partition.get("ls_offset", -1001)
    if position >= 0 and end >= 0:
        return max(0, end - position)
    return max(0, partition.get("consumer_lag", -1))


def _names(partitions: list[TopicPartition]) -> str:
    return ",".join(f"{p.topic}[{p.partition}]" for p in partitions) or "-"
