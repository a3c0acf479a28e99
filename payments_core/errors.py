"""The platform's errors, one root, split by what the caller should do about them."""

from __future__ import annotations

__all__ = ["BadInput", "ConfigError", "DatabaseUnavailable", "PlatformError", "ServerStartError", "TransientError"]


class PlatformError(Exception):
    """Root of the platform's own errors; the message is meant for a person and says what to do."""


class ConfigError(PlatformError):
    """A setting is missing or malformed; the process must not start."""


class ServerStartError(PlatformError):
    """A local server (broker, database, S3 endpoint) could not be started or did not become ready."""


class BadInput(PlatformError, ValueError):
    """What was sent is wrong (a message, a file): permanent; the message names the field or the line. Also a
    ValueError, as wrong values are in Python."""


class TransientError(PlatformError):
    """A server is unavailable for now: pause, back off and retry; never drop data and never commit past it."""


class DatabaseUnavailable(TransientError):
    """PostgreSQL cannot be reached, went away, or cannot take the work now; nothing was committed."""
