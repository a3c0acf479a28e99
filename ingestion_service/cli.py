"""`payments ingest`: run the ingestion service until Ctrl-C or SIGTERM."""

from __future__ import annotations

import click

from payments_core.process import collect_garbage_for_a_stream, configure_logging, stop_on_signals
from payments_core.settings import load

from .metrics import serve
from .service import IngestionService
from .settings import IngestionSettings

__all__ = ["command"]


@click.command("ingest")
def command() -> None:
    """Consume payments and imports into PostgreSQL. Ctrl-C or SIGTERM: finish the batch, commit, exit 0."""
    settings = load(IngestionSettings)
    configure_logging(settings.log_format)
    stop = stop_on_signals()
    service = IngestionService(settings)
    collect_garbage_for_a_stream()
    server = serve(service.metrics, settings.ingestion_http_port) if settings.ingestion_http_port else None
    try:
        service.run(stop)
    finally:
        if server is not None:
            server.shutdown()
