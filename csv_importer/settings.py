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
    # Where the app listens: this machine only, unless told otherwise (its container listens on 0.0.0.0).
    importer_host: str = Field("127.0.0.1", min_length=1)
    # Requests served at once; the database pool holds as many connections, so no request waits for one.
    importer_threads: int = Field(8, ge=1, le=64)
    # How long the built-in dashboard reuses an answer for the same question and filters.
    dashboard_cache_seconds: float = Field(5.0, ge=0, le=300)
    # A sign-in lasts this long; then the person signs in again.
    importer_session_minutes: int = Field(480, ge=1, le=10_080)
    # Send the session cookie over HTTPS only: set it when the app is served over HTTPS (behind a proxy).
    importer_secure_cookies: bool = False
    # How many proxies in front of the app add to X-Forwarded-For: the client's address (for the sign-in throttle
    # and the log) is taken from that header through that many of them. 0: the header is ignored.
    importer_trusted_proxies: int = Field(0, ge=0, le=10)
