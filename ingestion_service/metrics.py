"""Prometheus metrics and a health check, served over HTTP: GET /metrics and GET /health."""

from __future__ import annotations

import json
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from .state import State

__all__ = ["Metrics", "serve"]


class Metrics:
    """The service's counters and state, one registry per service (several can run in one process, as in the
    tests). The consume loop writes the state; the HTTP thread reads it."""

    def __init__(self, session_timeout_s: float, stall_s: float) -> None:
        self.session_timeout_s, self.stall_s = session_timeout_s, stall_s
        self.registry = CollectorRegistry()
        r = self.registry
        self.consumed = Counter("payments_ingest_messages_consumed", "Messages read from Kafka", ["topic"], registry=r)
        self.upserted = Counter("payments_ingest_rows_upserted", "Rows written to transactions", ["topic"],
                                registry=r)
        self.collapsed = Counter("payments_ingest_rows_collapsed",
                                 "Rows replaced by a later version of the same transaction in the same batch",
                                 ["topic"], registry=r)
        # prometheus_client adds `_total`: payments_ingest_stale_total{topic, reason="older"|"conflict"}.
        self.stale = Counter("payments_ingest_stale", "Versions not applied: older than what is stored, or a final "
                             "status contradicting another", ["topic", "reason"], registry=r)
        self.overruled = Counter("payments_ingest_suspicious_overruled", "Import rows whose is_suspicious the "
                                 "platform's threshold overruled", ["topic"], registry=r)
        self.rejected = Counter("payments_ingest_messages_rejected",
                                "Messages refused, by topic and reason code", ["topic", "reason"], registry=r)
        self.batch_size = Histogram("payments_ingest_batch_messages", "Messages per batch", registry=r,
                                    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 50000))
        self.batch_seconds = Histogram("payments_ingest_batch_seconds", "Time to write and commit one batch",
                                       registry=r, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.end_to_end = BatchHistogram("payments_ingest_end_to_end_seconds",
                                         "From a message's Kafka timestamp to its batch committed",
                                         (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=r)
        self.database_up = Gauge("payments_ingest_database_up", "1 while PostgreSQL answers", registry=r)
        self.partitions = Gauge("payments_ingest_assigned_partitions", "Partitions this instance owns", registry=r)
        self.broker_up_gauge = Gauge("payments_ingest_broker_up", "1 while a broker connection is up", registry=r)
        self.lag = Gauge("payments_ingest_visible_lag", "Messages behind on the partitions this instance owns, as "
                         "far as the broker's high watermarks show", registry=r)
        self.beyond_sla = Gauge("payments_pending_beyond_sla", "Payments pending longer than PENDING_SLA_MINUTES, "
                                "as of the last refresh of the dashboards' totals", registry=r)
        self.retention_deleted = Counter("payments_ingest_retention_deleted", "Rows deleted for being older than "
                                         "their retention", ["table"], registry=r)
        # For the alert on a stalled consumer (prometheus/alerts.yml): read when scraped.
        Gauge("payments_ingest_stalled_seconds", "Seconds without a commit while messages wait (0 while none "
              "waits)", registry=r).set_function(lambda: self.stalled_for())
        self.last_batch_at = time.time()
        self.started = False
        self.state, self.state_reason = State.RUNNING, ""  # the consume loop's state, and why
        self.topic_partitions = 0  # of the subscribed topics, as the broker's metadata shows them (topics.py)
        self.topic_problems: list[str] = []  # a topic missing, or with fewer partitions than TOPIC_PARTITIONS
        self.visible_lag = 0
        self.held_messages = 0  # read and not yet committed
        # What the batch's database transaction is doing and since when (monotonic), or None.
        self.doing: Callable[[], tuple[str, float] | None] = lambda: None
        self.statistics_at = time.monotonic()
        self.progress_at = time.monotonic()  # the last commit, or the last time nothing waited
        self.loop_at = time.monotonic()  # the consume loop's last step or retry: it is alive, if not progressing
        self.assigned = 0
        self.unassigned_since = time.monotonic()
        self.set_database_up(True)
        self.set_broker_up(True)

    def set_state(self, state: State, why: str) -> None:
        self.state, self.state_reason = state, why
        self.set_database_up(state is not State.PAUSED_FOR_DATABASE)

    def set_database_up(self, up: bool) -> None:
        self.database_is_up = up
        self.database_up.set(1 if up else 0)

    def set_broker_up(self, up: bool) -> None:
        self.broker_up = up
        self.broker_up_gauge.set(1 if up else 0)

    def set_partitions(self, count: int) -> None:
        if count == 0 and self.assigned != 0:
            self.unassigned_since = time.monotonic()
        self.assigned = count
        self.partitions.set(count)

    def observe_lag(self, lag: int) -> None:
        self.visible_lag, self.statistics_at = lag, time.monotonic()
        self.lag.set(lag)
        self._progress_if_idle()

    def set_held(self, messages: int) -> None:
        self.held_messages = messages
        self._progress_if_idle()

    def _progress_if_idle(self) -> None:
        if self.waiting() == 0:
            self.progress_at = time.monotonic()

    def progressed(self) -> None:
        self.progress_at = time.monotonic()

    def loop_ran(self) -> None:
        self.loop_at = time.monotonic()

    def wedged_for(self) -> float:
        """Seconds without a commit while messages wait, counting a pause only while its retries have stopped: a
        pause that retries is the service handling an outage, which a restart would not cure."""
        stalled = self.stalled_for()
        if self.state.paused:
            return min(stalled, time.monotonic() - self.loop_at)
        return stalled

    def waiting(self) -> int:
        """Messages known to wait: those read and not committed, and those not read yet on the owned partitions
        (paused ones included)."""
        return self.held_messages + self.visible_lag

    def stalled_for(self) -> float:
        """Seconds without a commit while messages wait; 0 while nothing waits."""
        return time.monotonic() - self.progress_at if self.waiting() else 0.0

    def problems(self) -> list[str]:
        """What keeps the service from doing its work now, in words; empty when all is well."""
        now = time.monotonic()
        found = []
        if not self.started:
            found.append("not consuming")
        if self.state.paused:
            found.append(f"{self.state}: {self.state_reason}")
        if not self.broker_up:
            found.append("the Kafka broker is unreachable")
        found += self.topic_problems
        if self.started and self.assigned == 0 and self.topic_partitions > 0 \
                and now - self.unassigned_since > self.session_timeout_s:
            found.append(f"no partition held for {now - self.unassigned_since:.0f} s while the topics have "
                         f"{self.topic_partitions}")
        stalled = self.stalled_for()
        if stalled > self.stall_s:
            doing = self.doing()
            found.append(f"{self.waiting()} messages waiting and nothing committed for {stalled:.0f} s"
                         + (f" ({doing[0]} for {now - doing[1]:.0f} s)" if doing else ""))
        elif self.started and now - self.statistics_at > self.stall_s:
            found.append(f"the consume loop has not run for {now - self.statistics_at:.0f} s")
        return found

    def health(self) -> tuple[int, dict]:
        """200 while the service consumes and makes progress; 503 otherwise, with what is wrong."""
        problems = self.problems()
        body = {
            "status": "unavailable" if problems else "ok",
            "problems": problems,
            "state": self.state,
            "database": "up" if self.database_is_up else "down",
            "broker": "up" if self.broker_up else "down",
            "consuming": self.started,
            "assigned_partitions": self.assigned,
            "topic_partitions": self.topic_partitions,
            "visible_lag": self.visible_lag,
            "messages_waiting": self.waiting(),
            "seconds_without_commit": round(self.stalled_for(), 1),
            "seconds_since_last_batch": round(time.time() - self.last_batch_at, 1),
        }
        return (503 if problems else 200), body


class BatchHistogram:
    """A histogram observed a batch at a time, for a value per message: prometheus_client's Histogram takes a lock
    and walks its buckets in Python for each value, a microsecond per message on the reader thread."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry):
        self.name, self.documentation, self.bounds = name, documentation, buckets
        self.counts = [0] * (len(buckets) + 1)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0
        self.lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        with self.lock:
            counts, bounds, total = list(self.counts), self.bounds, self.sum
            for value in values:
                counts[bisect_left(bounds, value)] += 1  # the first bucket whose bound is at or above it, as `le`
                total += value
            self.counts, self.sum = counts, total

    def collect(self):
        with self.lock:
            counts, total = self.counts, self.sum
        cumulative, running = [], 0
        for bound, count in zip((*map(floatToGoString, self.bounds), "+Inf"), counts, strict=True):
            running += count
            cumulative.append((bound, running))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=total)


def serve(metrics: Metrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve /metrics and /health on a daemon thread; returns the server (call shutdown() to stop it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — the name http.server calls
            if self.path == "/metrics":
                status, body, kind = 200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST
            elif self.path == "/health":
                status, data = metrics.health()
                body, kind = json.dumps(data).encode(), "application/json"
            else:
                status, body, kind = 404, b"try /health or /metrics\n", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # one line per batch is the service's log, not one per scrape
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
