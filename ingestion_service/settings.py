"""Settings of the ingestion service (see .env.example)."""

from __future__ import annotations

from pydantic import Field

from payments_core.settings import (
    DatabaseSettings,
    KafkaSettings,
    LogSettings,
    ServicePorts,
    SuspiciousThreshold,
    TopicSettings,
)

__all__ = ["IngestionSettings"]


class IngestionSettings(KafkaSettings, TopicSettings, DatabaseSettings, ServicePorts, SuspiciousThreshold, LogSettings):
    ingestion_group_id: str = Field("payments-ingestion", min_length=1, description="Kafka consumer group")
    # A batch is written when it holds this many messages or has waited this long, whichever comes first.
    ingestion_batch_max_messages: int = Field(5000, ge=1, le=100_000)
    ingestion_batch_max_wait_ms: int = Field(100, ge=1, le=60_000)
    # How long the group waits for a silent instance before moving its partitions to the others.
    ingestion_session_timeout_ms: int = Field(10_000, ge=1000, le=300_000)
    # /health answers 503 when messages wait and nothing has been committed for this long.
    ingestion_stall_seconds: int = Field(60, ge=5, le=3600)
    # The process exits (for its supervisor to start it again) when messages wait and nothing has been committed for
    # this long (a pause that goes on retrying excepted); nothing is lost, the uncommitted messages are read again.
    # 0 turns it off.
    ingestion_watchdog_seconds: int = Field(300, ge=0, le=86_400)
    # A statement of the batch's transaction that runs longer is cancelled, and the batch retried; the log and
    # /health name the step that waited (a lock held on a table, an overloaded server).
    ingestion_statement_timeout_seconds: float = Field(60, gt=0, le=3600)
    # How often the dashboards' totals catch up with the payments written (the longest a dashboard lags).
    totals_refresh_seconds: float = Field(2.0, gt=0, le=3600)
    # How many days refusals, versions set aside and overruled flags are kept (0: for ever); the service deletes older
    # ones every RETENTION_CHECK_SECONDS, a thousand rows at a time (retention.py).
    rejected_retention_days: int = Field(90, ge=0, le=36_500)
    superseded_retention_days: int = Field(90, ge=0, le=36_500)
    overruled_retention_days: int = Field(90, ge=0, le=36_500)
    retention_check_seconds: float = Field(600, gt=0, le=86_400)

    def retention_days(self) -> dict[str, int]:
        return {"rejected_events": self.rejected_retention_days, "superseded_events": self.superseded_retention_days,
                "overruled_flags": self.overruled_retention_days}
