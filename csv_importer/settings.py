"""Settings of the CSV importer (see .env.example)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr

from payments_core.settings import (
    DatabaseSettings,
    KafkaSettings,
    S3Settings,
    ServicePorts,
    SuspiciousThreshold,
    TopicSettings,
)

__all__ = ["ImporterSettings"]


class ImporterSettings(KafkaSettings, TopicSettings, DatabaseSettings, S3Settings, ServicePorts, SuspiciousThreshold):
    # Signs the importer's session cookie (CSRF protection). Required: `.env.example` has one for local use.
    importer_secret_key: SecretStr = Field(min_length=16)
    importer_max_upload_mb: int = Field(200, ge=1, le=4096)
    # Where an upload waits while the person decides whether to import a file they imported before.
    importer_spool_dir: str = Field(default_factory=lambda: str(Path(tempfile.gettempdir()) / "payments-importer"))
