"""Settings of the data generator (see .env.example)."""

from __future__ import annotations

from pydantic import Field

from payments_core.settings import DatabaseSettings, KafkaSettings, LogSettings, SuspiciousThreshold, TopicSettings

__all__ = ["GeneratorSettings"]


class GeneratorSettings(KafkaSettings, TopicSettings, DatabaseSettings, SuspiciousThreshold, LogSettings):
    # Events per second; 0 publishes as fast as the broker takes them. One event every 2 seconds by default.
    generator_rate: float = Field(0.5, ge=0)
    # Of the payments that start pending, the share never settled (for the dashboards' "Pending beyond SLA").
    generator_stuck_ratio: float = Field(0.0, ge=0, le=1)
    # How long the broker may take to confirm an event before it counts as failed.
    generator_delivery_timeout_ms: int = Field(30_000, ge=1000, le=900_000)
    # Where Prometheus reads the generator's counters (GET /metrics); 0: not served. Its container serves on 8082.
    generator_metrics_port: int = Field(0, ge=0, le=65535)
    generator_metrics_host: str = Field("127.0.0.1", min_length=1)
