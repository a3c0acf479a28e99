"""The platform's errors, split by what the caller should do about them."""

from __future__ import annotations

__all__ = ["ConfigError", "PlatformError", "ServerStartError", "TransientError"]


class PlatformError(Exception):
    """Root of the platform's own errors; the message is meant for a person and says what to do."""


class ConfigError(PlatformError):
    """A setting is missing or malformed; the process must not start."""


class ServerStartError(PlatformError):
    """A local server (broker, database, S3 endpoint) could not be started or did not become ready."""


class TransientError(PlatformError):
    """A server is unavailable for now: pause, back off and retry; never drop data and never commit past it."""
