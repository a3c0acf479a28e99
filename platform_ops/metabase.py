"""`payments metabase-provision`: set Metabase up from metabase/ (idempotent)."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from dashboards.metabase_api import MetabaseClient
from dashboards.provision import Connection, provision
from dashboards.questions import load_dashboard
from dashboards.reader import ensure_reader
from dashboards.settings import MetabaseSettings
from payments_core.settings import load

__all__ = ["provision_command"]


@click.command("metabase-provision")
def provision_command() -> None:
    """Set Metabase up: admin account (first run), the payments database through a read-only role, and the
    "Payments overview" dashboard from metabase/. A second run changes nothing."""
    settings = load(MetabaseSettings)
    url = make_url(settings.database_url)
    created = ensure_reader(settings.database_url, settings.metabase_reader_user,
                            settings.metabase_reader_password.get_secret_value())
    click.echo(f"read-only role {settings.metabase_reader_user} {'created' if created else 'up to date'}")
    client = MetabaseClient(settings.metabase_url)
    client.wait_until_healthy()
    connection = Connection(
        host=settings.metabase_db_host or url.host or "127.0.0.1", port=settings.metabase_db_port or url.port or 5432,
        dbname=url.database, user=settings.metabase_reader_user,
        password=settings.metabase_reader_password.get_secret_value(),
    )
    result = provision(client, load_dashboard(), connection, settings.metabase_admin_email,
                       settings.metabase_admin_password.get_secret_value())
    for change in result.changes or ["nothing to change"]:
        click.echo(change)
    click.echo(f"dashboard: {settings.metabase_url}/dashboard/{result.dashboard_id}")

