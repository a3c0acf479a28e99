"""The generator's counters for Prometheus, read from its running report: GET /metrics on GENERATOR_METRICS_PORT."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily

from .publisher import Report

__all__ = ["serve"]


class _ReportCollector:
    def __init__(self, report: Report):
        self.report = report

    def collect(self):
        yield CounterMetricFamily("payments_generator_events_sent", "Events handed to the Kafka producer",
                                  value=self.report.sent)
        yield CounterMetricFamily("payments_generator_events_failed", "Events the broker did not confirm",
                                  value=self.report.failed)


def serve(report: Report, host: str, port: int):
    """Serve the report's counters at http://host:port/metrics; returns the server (shut down with the process)."""
    registry = CollectorRegistry()
    registry.register(_ReportCollector(report))
    server, _thread = start_http_server(port, host, registry=registry)
    return server
