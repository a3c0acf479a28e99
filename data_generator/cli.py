"""`payments generate` (the live stream) and `payments sample-csvs` (the sample files)."""

from __future__ import annotations

import logging
import random
import sys
from pathlib import Path

import click
from sqlalchemy import text

from payments_core.db.connect import make_engine
from payments_core.kafka import producer_config
from payments_core.process import configure_logging, stop_on_signals
from payments_core.settings import load

from .csv_files import SAMPLE_FILES, write_samples
from .metrics import serve as serve_metrics
from .payments import PaymentStream, User
from .publisher import Report, publish
from .settings import GeneratorSettings

__all__ = ["commands"]

log = logging.getLogger(__name__)


def load_users(database_url: str) -> list[User]:
    """The active users, in a stable order (so that a seed gives the same stream)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id::text, username FROM users WHERE is_active ORDER BY username"))
            return [User(user_id, username) for user_id, username in rows]
    finally:
        engine.dispose()


@click.command("generate")
@click.option("--rate", type=float, help="Events per second; 0 for as fast as the broker takes. "
                                          "Default: GENERATOR_RATE (0.5, one every 2 seconds).")
@click.option("--count", type=int, default=0, show_default=True, help="Events to publish; 0 until stopped.")
@click.option("--seed", type=int, help="The same seed gives the same payments. Default: a new one each run "
                                       "(logged), so that a restart does not publish the same transactions again.")
@click.option("--invalid-ratio", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of deliberately broken events, to see validation and the dead-letter topic at work.")
@click.option("--stuck-ratio", type=click.FloatRange(0, 1),
              help="Share of the payments starting pending that are never settled, to see the payments pending "
                   "beyond PENDING_SLA_MINUTES on the dashboards. Default: GENERATOR_STUCK_RATIO (0).")
def generate(rate: float | None, count: int, seed: int | None, invalid_ratio: float,
             stuck_ratio: float | None) -> None:
    """Publish synthetic payments to PAYMENTS_TOPIC. Exits 0 once every event is confirmed by the broker, 1 if
    any was not; Ctrl-C or SIGTERM stops after the events already sent are confirmed."""
    stop = stop_on_signals()
    settings = load(GeneratorSettings)
    configure_logging(settings.log_format)
    rate = settings.generator_rate if rate is None else rate
    stuck_ratio = settings.generator_stuck_ratio if stuck_ratio is None else stuck_ratio
    if rate < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--rate")
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    users = load_users(settings.database_url)
    stream = PaymentStream(users, seed=seed, invalid_ratio=invalid_ratio, stuck_ratio=stuck_ratio)
    log.info("publishing to %s at %s, %s, %d users, seed %d (--seed repeats it), invalid ratio %.2f, "
             "stuck ratio %.2f", settings.payments_topic,
             f"{rate:g} events/s" if rate else "full speed", f"{count:,} events" if count else "until stopped",
             len(users), seed, invalid_ratio, stuck_ratio)
    config = producer_config(settings, **{"linger.ms": 20, "batch.num.messages": 10_000,
                                          "queue.buffering.max.messages": 1_000_000,
                                          "message.timeout.ms": settings.generator_delivery_timeout_ms})
    report = Report()
    if settings.generator_metrics_port:
        serve_metrics(report, settings.generator_metrics_host, settings.generator_metrics_port)
        log.info("metrics at http://%s:%d/metrics", settings.generator_metrics_host, settings.generator_metrics_port)
    publish(stream, config, settings.payments_topic, rate, count, stop, show_progress=count >= 1000,
            flush_timeout=settings.generator_delivery_timeout_ms / 1000 + 5, report=report)
    click.echo(f"done: {report.line()}", err=True)
    for reason, n in report.failures.most_common():
        click.echo(f"  {n:,} failed: {reason}", err=True)
    sys.exit(0 if report.all_delivered else 1)


@click.command("sample-csvs")
@click.option("--out", type=click.Path(path_type=Path), default=Path("csvs"), show_default=True)
@click.option("--seed", type=int, default=20250707, show_default=True)
def sample_csvs(out: Path, seed: int) -> None:
    """Write the sample CSV files for the importer (the same bytes every time)."""
    for path, sample in zip(write_samples(out, seed), SAMPLE_FILES, strict=True):
        click.echo(f"{path}: {sample.purpose}")


commands = [generate, sample_csvs]
