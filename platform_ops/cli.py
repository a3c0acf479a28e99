"""The `payments` command: one entry point for the local stack, the database and the services.

The services' commands are imported here, as the tooling's; the services and the core never import this."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from csv_importer.cli import command as importer_command
from data_generator.cli import commands as generator_commands
from ingestion_service.cli import command as ingest_command
from payments_core.errors import PlatformError
from payments_core.settings import DatabaseSettings, KafkaSettings, TopicSettings, load

from .console import command as console_command
from .dead_letters import dead_letters
from .metabase import provision_command
from .settings import StackSettings
from .tokens import tokens
from .users import users

__all__ = ["cli", "main"]


class TopicsSettings(KafkaSettings, TopicSettings):
    """What `payments topics` reads."""


@click.group()
def cli() -> None:
    """Payments event platform: Kafka -> PostgreSQL, a CSV importer, dashboards."""


@cli.command()
@click.option("--state-dir", type=click.Path(path_type=Path), default=Path(".local"), show_default=True,
              help="Where server logs and embedded PostgreSQL data are kept.")
def up(state_dir: Path) -> None:
    """Run the whole platform locally: Kafka, PostgreSQL, S3, schema, seed data and services."""
    from . import stack

    sys.exit(stack.run(load(StackSettings), state_dir.resolve()))


@cli.command()
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for each server.")
def setup(timeout: float) -> None:
    """Wait for Kafka, PostgreSQL and S3, then create topics and bucket, migrate and seed (idempotent)."""
    from payments_core.db.connect import wait_for_database
    from payments_core.kafka import wait_for_broker

    from .settings import PlatformSetupSettings
    from .setup import create_bucket, create_topics, ensure_admin, migrate_and_seed

    settings = load(PlatformSetupSettings)
    wait_for_broker(settings.kafka_bootstrap_servers, timeout)
    for topic, partitions in create_topics(settings.kafka_bootstrap_servers, settings).items():
        click.echo(f"topic {topic}: {partitions} partitions")
    wait_for_database(settings.database_url, timeout)
    counts = migrate_and_seed(settings.database_url, settings.pending_sla_minutes)
    click.echo(f"database migrated to head; seed added {counts['currencies']} currencies, {counts['users']} users")
    created = create_bucket(settings)
    click.echo(f"bucket {settings.s3_bucket} {'created' if created else 'exists'}")
    password = settings.importer_admin_password
    click.echo(ensure_admin(settings.database_url, settings.importer_admin_username,
                            password.get_secret_value() if password else None))


@cli.command()
@click.option("--revision", default="head", show_default=True)
def migrate(revision: str) -> None:
    """Create the database if missing and migrate it (DATABASE_URL) to REVISION."""
    from payments_core.db.connect import ensure_database, wait_for_database
    from payments_core.db.migrate import upgrade

    url = load(DatabaseSettings).database_url
    wait_for_database(url)
    ensure_database(url)
    upgrade(url, revision)


@cli.command()
def seed() -> None:
    """Load the ISO 4217 currencies and the seed users (idempotent)."""
    from payments_core.db.connect import make_engine
    from payments_core.db.seed import seed as load_seed

    engine = make_engine(load(DatabaseSettings).database_url)
    counts = load_seed(engine)
    engine.dispose()
    click.echo(f"seed: {counts['currencies']} currencies and {counts['users']} users added or updated")


@cli.command()
def topics() -> None:
    """Create the platform's topics if missing (TOPIC_PARTITIONS partitions each)."""
    from payments_core.kafka import wait_for_broker

    from .setup import create_topics

    settings = load(TopicsSettings)  # the broker and the topics: nothing of S3 or the database
    wait_for_broker(settings.kafka_bootstrap_servers)
    for topic, partitions in create_topics(settings.kafka_bootstrap_servers, settings).items():
        click.echo(f"{topic}: {partitions} partitions")


@cli.command()
@click.option("--check", is_flag=True, help="Fail if a committed schema differs from its model.")
def schemas(check: bool) -> None:
    """Write schemas/<topic>.schema.json from the event models."""
    from payments_core.schemas import TOPIC_MODELS, render, schema_path

    stale = []
    for topic in TOPIC_MODELS:
        path, text = schema_path(topic), render(topic)
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.name)
        if not check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            click.echo(f"wrote {path}")
    if check and stale:
        raise click.ClickException(f"out of date: {', '.join(stale)}; run `payments schemas`")


# Each service brings its own commands (`payments ingest`, …); the operator's tools are this package's.
for command in (ingest_command, *generator_commands, importer_command, provision_command, console_command,
                dead_letters, users, tokens):
    cli.add_command(command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except PlatformError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
