"""`payments produce`: a console producer for events typed by hand (Debian's kcat cannot talk to the local broker).

Reads one JSON event per line from standard input, keys it by its transaction_id, sends it as typed, and reports
each delivery. Each line is checked against the topic's contract first; `--no-check` sends it regardless, to see
what the ingestion service does with a bad event.
"""

from __future__ import annotations

import json
import sys

import click
from confluent_kafka import Producer

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, parse
from payments_core.kafka import producer_config
from payments_core.settings import KafkaSettings, TopicSettings, load
from payments_core.wire import SOURCE_HEADER, SOURCE_MANUAL

__all__ = ["command"]

MANUAL = (SOURCE_HEADER, SOURCE_MANUAL)


class ConsoleSettings(KafkaSettings, TopicSettings):
    pass


def _key(line: str) -> bytes | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("transaction_id"), str):
        return data["transaction_id"].strip().encode()
    return None


@click.command("produce")
@click.option("--topic", help="Topic to send to. Default: PAYMENTS_TOPIC.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Check each line against the topic's contract before sending it.")
def command(topic: str | None, check: bool) -> None:
    """Send JSON events typed one per line on standard input, keyed by transaction_id; blank lines and lines
    starting with # are skipped. Exits 1 if any line was not sent or not confirmed."""
    settings = load(ConsoleSettings)
    topic = topic or settings.payments_topic
    model = {settings.payments_topic: PaymentEvent, settings.imports_topic: ImportRowEvent}.get(topic)
    producer = Producer(producer_config(settings, **{"linger.ms": 0 if sys.stdin.isatty() else 5}))
    outcome = {"sent": 0, "failed": 0}

    def report(line_number: int):
        def delivered(error, message):
            if error is not None:
                outcome["failed"] += 1
                click.echo(f"line {line_number}: NOT delivered: {error.str()}", err=True)
            else:
                outcome["sent"] += 1
                key = (message.key() or b"").decode(errors="replace") or "no key"
                click.echo(f"line {line_number}: delivered to {message.topic()} [{message.partition()}] "
                           f"at offset {message.offset()}, key {key}")
        return delivered

    if sys.stdin.isatty():
        click.echo(f"Type one JSON event per line for {topic}; Ctrl-D to finish.", err=True)
    for line_number, line in enumerate(sys.stdin, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if check and model is not None:
            try:
                parse(model, text)
            except ContractError as e:
                outcome["failed"] += 1
                click.echo(f"line {line_number}: not sent: {e} (--no-check sends it anyway)", err=True)
                continue
        producer.produce(topic, key=_key(text), value=text.encode(), headers=[MANUAL],
                         on_delivery=report(line_number))
        # Typed by hand: confirm each line before the next. Piped: let deliveries batch.
        producer.flush(30) if sys.stdin.isatty() else producer.poll(0)
    left = producer.flush(30)
    if left:
        outcome["failed"] += left
        click.echo(f"{left} events not confirmed by the broker within 30 s", err=True)
    click.echo(f"{outcome['sent']} sent, {outcome['failed']} not sent", err=True)
    sys.exit(1 if outcome["failed"] else 0)
