"""The web app's counters for Prometheus (GET /metrics): uploads and what became of them, their rows, the rows
the broker did not confirm, and the time each request took. One registry per app (the tests make many)."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["ImporterMetrics", "init_app"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# What became of an upload (web page or API): imported, asked whether to import again, or refused, and why.
OUTCOMES = ("imported", "imported_before", "file_refused", "storage_unavailable", "database_unavailable")


class ImporterMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.uploads = Counter("payments_importer_uploads", "Uploads, by what became of them", ["outcome"],
                               registry=r)
        self.rows = Counter("payments_importer_rows", "Rows of imported files: read, published to Kafka, and "
                            "flagged (duplicate, suspicious, malformed, conflict)", ["kind"], registry=r)
        self.publish_failures = Counter("payments_importer_publish_failures", "Rows the broker did not confirm",
                                        registry=r)
        self.requests = Histogram("payments_importer_request_seconds", "Time to answer a request, by route",
                                  ["route", "method", "status"], registry=r,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120))
        for outcome in OUTCOMES:
            self.uploads.labels(outcome)  # every outcome shows, at 0, from the start

    def upload(self, outcome: str) -> None:
        self.uploads.labels(outcome).inc()

    def imported(self, counts: dict[str, int], published: int, failed: int) -> None:
        for kind, n in counts.items():
            self.rows.labels(kind).inc(n)
        self.rows.labels("published").inc(published)
        self.publish_failures.inc(failed)


def init_app(app: Flask, metrics: ImporterMetrics) -> None:
    app.extensions["importer_metrics"] = metrics

    @app.before_request
    def _started():
        g.request_started = time.perf_counter()

    @app.after_request
    def _timed(response):
        started = g.pop("request_started", None)
        if started is not None:
            # The route's rule, never the address: an id in a path would make a series per import.
            route = request.url_rule.rule if request.url_rule is not None else "unknown"
            method = request.method if request.method in METHODS else "other"  # the client's word: bounded
            metrics.requests.labels(route, method, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response


def exposition(metrics: ImporterMetrics) -> Response:
    return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)
