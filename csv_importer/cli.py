"""`payments importer`: serve the CSV importer web app."""

from __future__ import annotations

import click

from payments_core.process import configure_logging
from payments_core.settings import load

from . import create_app, serving
from .settings import ImporterSettings

__all__ = ["command"]


@click.command("importer")
@click.option("--host", help="Interface to listen on. Default: IMPORTER_HOST (127.0.0.1, this machine only).")
def command(host: str | None) -> None:
    """Serve the CSV importer on IMPORTER_PORT (default 5050)."""
    settings = load(ImporterSettings)
    configure_logging(settings.log_format)
    app = create_app(settings)
    click.echo(f"CSV importer on http://127.0.0.1:{settings.importer_port}/", err=True)
    serving.server(app, host or settings.importer_host, settings.importer_port, settings.importer_threads).run()
