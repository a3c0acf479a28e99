"""Getting the platform's infrastructure ready: topics, bucket, schema and seed data.

Each step is idempotent. `payments setup` (the one-shot service of docker compose) runs them all; the local
stack runs them after starting its servers.
"""

from __future__ import annotations

from minio.error import S3Error
from urllib3.exceptions import HTTPError

from payments_core import s3
from payments_core.db.connect import ensure_database, make_engine
from payments_core.db.migrate import upgrade
from payments_core.db.seed import seed
from payments_core.db.service_levels import set_service_level
from payments_core.errors import ServerStartError
from payments_core.kafka import ensure_topics, platform_topics, retention_of
from payments_core.settings import S3Settings, TopicSettings

__all__ = ["create_bucket", "create_topics", "migrate_and_seed"]


def create_topics(bootstrap_servers: str, settings: TopicSettings) -> dict[str, int]:
    """The payments, imports and dead-letter topics, created if missing; returns their partition counts."""
    return ensure_topics(bootstrap_servers, platform_topics(settings), settings.topic_partitions,
                         retention_of(settings))


def migrate_and_seed(database_url: str, pending_sla_minutes: int | None = None) -> dict[str, int]:
    """Create the database if missing, migrate it to head, load the seed data and, when given, set how long a
    payment may stay pending; returns what seed added."""
    ensure_database(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        counts = seed(engine)
        if pending_sla_minutes is not None:
            with engine.begin() as conn:
                set_service_level(conn, "pending", pending_sla_minutes)
        return counts
    finally:
        engine.dispose()


def ensure_admin(database_url: str, username: str | None, password: str | None) -> str:
    """Make the web app's first account (role importer) if it is missing; never change one that exists. Returns
    what was done, for the person."""
    from csv_importer import accounts

    if not username or not password:
        return "no first account: IMPORTER_ADMIN_USERNAME and IMPORTER_ADMIN_PASSWORD are not set"
    engine = make_engine(database_url)
    try:
        accounts.add(engine, username, password, "importer")
        return f"account {username!r} created (role importer; password: IMPORTER_ADMIN_PASSWORD in .env)"
    except accounts.AccountProblem:
        return f"account {username!r} exists, left as it is"
    finally:
        engine.dispose()


def create_bucket(settings: S3Settings) -> bool:
    """Create the bucket if it is missing; return True if it was created."""
    client = s3.client(settings)
    try:
        if client.bucket_exists(settings.s3_bucket):
            return False
        client.make_bucket(settings.s3_bucket)
        return True
    except (S3Error, HTTPError) as e:
        raise ServerStartError(
            f"could not create bucket {settings.s3_bucket!r} at {settings.s3_endpoint_url}: {e}; "
            "are S3_ENDPOINT_URL, S3_ACCESS_KEY and S3_SECRET_KEY right?"
        ) from e

