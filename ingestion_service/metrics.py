"""Prometheus metrics and a health check, served over HTTP: GET /metrics and GET /health."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics", "serve"]


class Metrics:
    """The service's counters, one registry per service (several can run in one process, as in the tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.consumed = Counter("payments_ingest_messages_consumed", "Messages read from Kafka", ["topic"], registry=r)
        self.upserted = Counter("payments_ingest_rows_upserted", "Rows written to transactions", ["topic"],
                                registry=r)
        self.collapsed = Counter("payments_ingest_rows_collapsed",
                                 "Rows replaced by a later version of the same transaction in the same batch",
                                 ["topic"], registry=r)
        self.rejected = Counter("payments_ingest_messages_rejected",
                                "Messages refused, by topic and reason code", ["topic", "reason"], registry=r)
        self.batch_size = Histogram("payments_ingest_batch_messages", "Messages per batch", registry=r,
                                    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 50000))
        self.batch_seconds = Histogram("payments_ingest_batch_seconds", "Time to write and commit one batch",
                                       registry=r, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.end_to_end = Histogram("payments_ingest_end_to_end_seconds",
                                    "From a message's Kafka timestamp to its batch committed", registry=r,
                                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.database_up = Gauge("payments_ingest_database_up", "1 while PostgreSQL answers", registry=r)
        self.partitions = Gauge("payments_ingest_assigned_partitions", "Partitions this instance owns", registry=r)
        self.last_batch_at = time.time()
        self.started = False
        self.set_database_up(True)
        self.set_partitions(0)

    def set_database_up(self, up: bool) -> None:
        self.database_is_up = up
        self.database_up.set(1 if up else 0)

    def set_partitions(self, count: int) -> None:
        self.assigned = count
        self.partitions.set(count)

    def health(self) -> tuple[int, dict]:
        """200 while the service consumes and PostgreSQL answers; 503 otherwise, with what is wrong."""
        body = {
            "status": "ok" if self.database_is_up and self.started else "unavailable",
            "database": "up" if self.database_is_up else "down",
            "consuming": self.started,
            "assigned_partitions": self.assigned,
            "seconds_since_last_batch": round(time.time() - self.last_batch_at, 1),
        }
        return (200 if body["status"] == "ok" else 503), body


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
