"""`payments metabase-provision`: set Metabase up from metabase/ (idempotent)."""

from __future__ import annotations

import click
from pydantic import Field, SecretStr
from sqlalchemy.engine import make_url

from payments_core.settings import DatabaseSettings, load

from .metabase_api import MetabaseClient
from .provision import Connection, provision
from .questions import load_dashboard
from .reader import ensure_reader

__all__ = ["commands"]


class MetabaseSettings(DatabaseSettings):
    metabase_url: str = Field("http://127.0.0.1:3000", pattern=r"^https?://")
    metabase_admin_email: str = Field(min_length=3)
    metabase_admin_password: SecretStr = Field(min_length=8)
    metabase_reader_user: str = Field("metabase_reader", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    metabase_reader_password: SecretStr = Field(min_length=8)
    # How Metabase reaches PostgreSQL, when not as DATABASE_URL says (in docker compose: postgres:5432).
    metabase_db_host: str | None = None
    metabase_db_port: int | None = Field(None, ge=1, le=65535)


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


commands = [provision_command]
