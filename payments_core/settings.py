"""Configuration from the environment (12-factor), with defaults for the local stack.

Each service declares one `Settings` class from the pieces here and builds it once with `load(Settings)`.
Every variable is documented in `.env.example`; a `.env` file in the working directory is read too, and the
environment wins over it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from payments_core.errors import ConfigError
from payments_core.resources import data_path

__all__ = [
    "DatabaseSettings",
    "KafkaSettings",
    "S3Settings",
    "ServicePorts",
    "SetupSettings",
    "SuspiciousThreshold",
    "TopicSettings",
    "example_values",
    "load",
]


class _FromEnvironment(BaseSettings):
    # An empty value (`NAME=` in .env) counts as not set: the default applies, or a required value is missing.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)


class KafkaSettings(_FromEnvironment):
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", min_length=1, description="host:port[,host:port]")


class TopicSettings(_FromEnvironment):
    payments_topic: str = Field("payments-events", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    imports_topic: str = Field("import-payments-events", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    dlq_topic: str = Field("payments-events-dlq", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    topic_partitions: int = Field(6, ge=1, le=1000, description="partitions of each topic the platform creates")
    # How long the topics keep a message (set by `payments topics` and `setup`): the events topics a week, the
    # dead-letter topic a month, which `payments dead-letters replay` reads from.
    topic_retention_days: int = Field(7, ge=1, le=3650)
    dlq_retention_days: int = Field(30, ge=1, le=3650)


def _postgres_url(value: str) -> str:
    # SQLAlchemy's parser, not pydantic's PostgresDsn: that one refuses a Unix-socket URL
    # (postgresql://postgres@/payments?host=/run/postgresql), which embedded PostgreSQL uses.
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("should be a URL like postgresql://user:password@host:5432/payments") from None
    if url.get_backend_name() != "postgresql":
        raise ValueError("should be a PostgreSQL URL, starting postgresql://")
    if not url.database:
        raise ValueError("should name the database, as in postgresql://host:5432/payments")
    return value


class LogSettings(_FromEnvironment):
    # `json`: each log line a JSON object with the ids it concerns (topic, partition, offset, transaction, import,
    # line); `text`: for a person at a terminal.
    log_format: Annotated[Literal["text", "json"], BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)
                          ] = "text"


class DatabaseSettings(_FromEnvironment):
    database_url: Annotated[str, AfterValidator(_postgres_url)] = "postgresql://postgres@127.0.0.1:5432/payments"


class S3Settings(_FromEnvironment):
    s3_endpoint_url: str = Field("http://127.0.0.1:9000", pattern=r"^https?://[^/\s]+/?$")
    # Required: a missing key fails at start-up. `.env.example` has the values for the local stack.
    s3_access_key: str = Field(min_length=1)
    s3_secret_key: SecretStr = Field(min_length=1)
    s3_bucket: str = Field("files-imported", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # The longest an S3 call waits to connect, and then for each answer: a storage that hangs fails the call.
    s3_timeout_seconds: float = Field(20.0, gt=0, le=600)


class PendingSla(_FromEnvironment):
    """How long a payment may stay `pending` before it is in breach of the service level. `payments setup` writes it
    into the database (`service_levels`), where the dashboards and the ingestion service's gauge read it."""

    pending_sla_minutes: int = Field(15, ge=1, le=43200)


class SetupSettings(KafkaSettings, TopicSettings, DatabaseSettings, S3Settings, PendingSla):
    """What `payments setup` prepares: topics, schema, seed data, the service level, and bucket."""


class ServicePorts(_FromEnvironment):
    """Where the services listen: the importer's web page, the ingestion service's health and metrics."""

    importer_port: int = Field(5050, ge=1, le=65535)
    # GET /health and GET /metrics of the ingestion service; 0 turns the endpoint off.
    ingestion_http_port: int = Field(8081, ge=0, le=65535)


class SuspiciousThreshold(_FromEnvironment):
    """Where a payment becomes suspicious: strictly above this amount, in any currency. Declared once, for the
    importer, the generator and the ingestion service alike."""

    suspicious_amount_threshold: Decimal = Field(Decimal(8000), ge=0, allow_inf_nan=False)


# Values of these variables are never echoed back: they may hold a password.
_SECRET_WORDS = ("SECRET", "PASSWORD", "ACCESS_KEY", "DATABASE_URL")

Settings = TypeVar("Settings", bound=BaseSettings)


def load(settings_class: type[Settings], **overrides) -> Settings:
    """Build settings from the environment; raises ConfigError naming each missing or malformed variable."""
    try:
        return settings_class(**overrides)
    except ValidationError as e:
        problems = []
        for item in e.errors(include_url=False):
            name = "_".join(str(part) for part in item["loc"]).upper()
            if not name:  # a rule across variables: its message names them
                problems.append(item["msg"].removeprefix("Value error, "))
            elif item["type"] == "missing":
                problems.append(f"{name} is not set")
            elif any(word in name for word in _SECRET_WORDS):
                problems.append(f"{name} is not valid: {item['msg']}")
            else:
                problems.append(f"{name}={item.get('input')!r} is not valid: {item['msg']}")
        raise ConfigError("configuration: " + "; ".join(problems) + " (see .env.example)") from None


def example_values() -> set[str]:
    """The values `.env.example` gives its variables: public, so never a secret in a deployment."""
    example = data_path("env.example")  # inside an installed wheel
    if not example.exists():
        example = data_path(".env.example")  # a checkout
    if not example.exists():
        return set()
    return {line.split("=", 1)[1].strip() for line in example.read_text().splitlines()
            if "=" in line and not line.startswith("#")}
