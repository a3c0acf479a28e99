"""Settings of the CSV importer (see .env.example)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from payments_core.settings import (
    DatabaseSettings,
    KafkaSettings,
    LogSettings,
    S3Settings,
    ServicePorts,
    SuspiciousThreshold,
    TopicSettings,
    example_values,
)

__all__ = ["ImporterSettings", "listens_on_loopback"]

# Shorter keys can be guessed; an HMAC key of 32 bytes is as strong as the signature.
SECRET_KEY_BYTES = 32


def listens_on_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


class ImporterSettings(KafkaSettings, TopicSettings, DatabaseSettings, S3Settings, ServicePorts, SuspiciousThreshold,
                       LogSettings):
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
    # Requests an API token may make per minute (and a sixth of it at once): beyond, 429 with Retry-After.
    api_requests_per_minute: int = Field(600, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _secret_key_is_secret(self) -> ImporterSettings:
        """Anyone who knows the key can forge CSRF tokens and re-sign cookies (a stolen session's, to outlive its
        expiry): the example's key, printed in the repository, or a short one, is refused unless the app listens on
        this machine only (it then says so)."""
        if not self.secret_key_is_weak() or listens_on_loopback(self.importer_host):
            return self
        weakness = "the value printed in .env.example" if self.secret_key_is_example() else "shorter than 32 bytes"
        raise ValueError(
            f"IMPORTER_SECRET_KEY is {weakness} and IMPORTER_HOST={self.importer_host!r} is reachable from other "
            "machines: anyone could forge CSRF tokens and re-sign "
            "cookies with it. `make up` writes a random one into a new .env; or set one made by "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`")

    def secret_key_is_example(self) -> bool:
        return self.importer_secret_key.get_secret_value() in example_values()

    def secret_key_is_weak(self) -> bool:
        key = self.importer_secret_key.get_secret_value()
        return len(key.encode()) < SECRET_KEY_BYTES or self.secret_key_is_example()
