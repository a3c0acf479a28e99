"""`payments dead-letters`: what the ingestion service refused, read from DLQ_TOPIC, and sent again once its cause
is fixed (`payments dead-letters replay`).

A replayed copy is the message as it first arrived (key, bytes and its own headers) with one header more,
`payments.replayed-from`, naming the first dead letter of that message (`topic/partition/offset`). A message refused
again after a replay is one more dead letter of the same first one, so replaying takes each message once, as its
latest refusal left it. Replaying twice changes nothing more: the upsert by transaction_id is idempotent. Rows of
imports are sent again from their import's page instead, which sends only those not stored since.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, Message, Producer

from payments_core.kafka import produce_when_room, producer_config
from payments_core.settings import KafkaSettings, TopicSettings, load

__all__ = ["dead_letters"]

CONTEXT = "__connect.errors."  # the headers saying where a message came from and why it was refused
OWN_ERRORS = "payments.errors."
REPLAYED_FROM = "payments.replayed-from"
TRUNCATED = "payments.errors.truncated"


class DeadLetterSettings(KafkaSettings, TopicSettings):
    pass


@dataclass(frozen=True)
class DeadLetter:
    message: Message
    headers: dict[str, str]

    @classmethod
    def of(cls, message: Message) -> DeadLetter:
        return cls(message, {k: (v or b"").decode(errors="replace") for k, v in message.headers() or []})

    @property
    def position(self) -> str:
        return f"{self.message.topic()}/{self.message.partition()}/{self.message.offset()}"

    @property
    def first(self) -> str:
        """The first dead letter of this message: itself, or the one it was replayed from."""
        return self.headers.get(REPLAYED_FROM) or self.position

    @property
    def topic(self) -> str:
        return self.headers.get(CONTEXT + "topic", "")

    @property
    def codes(self) -> set[str]:
        try:
            return {r.get("code") for r in json.loads(self.headers.get("payments.errors.reasons", "[]"))}
        except (ValueError, AttributeError):
            return set()

    @property
    def refused_at(self) -> datetime | None:
        kind, millis = self.message.timestamp()
        if kind == TIMESTAMP_NOT_AVAILABLE:
            return None
        try:
            return datetime.fromtimestamp(millis / 1000, UTC)
        except (OverflowError, OSError, ValueError):  # any 64-bit number a producer set
            return None

    @property
    def transaction_id(self) -> str | None:
        try:
            found = json.loads(self.message.value() or b"").get("transaction_id")
        except (ValueError, AttributeError):
            found = None
        return found.strip().lower() if isinstance(found, str) else None

    def own_headers(self) -> list[tuple[str, bytes]]:
        """The headers the message arrived with (those of a replay's copy, less the replay's own)."""
        return [(k, v) for k, v in self.message.headers() or []
                if not k.startswith((CONTEXT, OWN_ERRORS)) and k != REPLAYED_FROM]


def read(settings: DeadLetterSettings, follow: bool = False, idle: float = 3.0) -> Iterator[DeadLetter]:
    """Every message on DLQ_TOPIC from the start; without `follow`, until `idle` quiet seconds (the end of a topic
    is decided by a quiet spell, never by watermarks: the local broker's can under-count)."""
    consumer = Consumer({
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": f"dead-letters-reader-{uuid.uuid4().hex[:8]}",  # a fresh group: always from the start
        "auto.offset.reset": "earliest", "enable.auto.commit": False, "session.timeout.ms": 6000,
    })
    state = {"assigned": False, "quiet_since": time.monotonic()}

    def assigned(_consumer, _partitions):
        state["assigned"], state["quiet_since"] = True, time.monotonic()  # quiet is counted from here

    consumer.subscribe([settings.dlq_topic], on_assign=assigned)
    give_up = time.monotonic() + 60
    try:
        while follow or (not state["assigned"] and time.monotonic() < give_up) \
                or time.monotonic() - state["quiet_since"] < idle:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            state["quiet_since"] = time.monotonic()
            yield DeadLetter.of(message)
    finally:
        consumer.close()


@click.group("dead-letters", invoke_without_command=True)
@click.option("--follow", is_flag=True, help="Keep waiting for new refusals (Ctrl-C to stop).")
@click.option("--idle", default=3.0, show_default=True, help="Without --follow, stop after this many quiet seconds.")
@click.pass_context
def dead_letters(context: click.Context, follow: bool, idle: float) -> None:
    """Print the messages on DLQ_TOPIC from the start: where each came from and why it was refused.
    `payments dead-letters replay` sends them again once their cause is fixed."""
    if context.invoked_subcommand is not None:
        return
    settings, shown = load(DeadLetterSettings), 0
    try:
        for letter in read(settings, follow, idle):
            shown += 1
            h = letter.headers
            payload = (letter.message.value() or b"").decode(errors="replace")
            click.echo(f"{h.get(CONTEXT + 'topic', '?')} [{h.get(CONTEXT + 'partition', '?')}] at offset "
                       f"{h.get(CONTEXT + 'offset', '?')}\n  why:     {h.get(CONTEXT + 'exception.message', '?')}\n"
                       f"  message: {payload[:300]}{' …' if len(payload) > 300 else ''}")
            if REPLAYED_FROM in h:
                click.echo(f"  replay of the dead letter {h[REPLAYED_FROM]}")
            if TRUNCATED in h:
                click.echo(f"  cut:     {h[TRUNCATED]}")
    except KeyboardInterrupt:
        pass
    click.echo(f"{shown} refused messages on {settings.dlq_topic}", err=True)


@dataclass(frozen=True)
class Wanted:
    """Which dead letters to send again; an empty choice is no filter."""

    reasons: set[str]
    topics: set[str]
    since: datetime | None = None
    until: datetime | None = None
    transaction_ids: set[str] = field(default_factory=set)

    def __call__(self, letter: DeadLetter) -> bool:
        when = letter.refused_at
        return not ((self.reasons and not letter.codes & self.reasons) or (self.topics and letter.topic not in
                    self.topics) or (self.since and (when is None or when < self.since))
                    or (self.until and (when is None or when >= self.until))
                    or (self.transaction_ids and letter.transaction_id not in self.transaction_ids)
                    or not letter.topic)


def choose(letters, wanted: Wanted, imports_topic: str) -> tuple[dict[str, DeadLetter], tuple[list, int, int]]:
    """Each message once, by its first dead letter, as its latest refusal left it; of those, the ones `wanted`:
    returns every message by first dead letter, and (the chosen, how many were cut copies, how many import rows)."""
    latest: dict[str, DeadLetter] = {}
    for letter in letters:
        latest[letter.first] = letter
    chosen, cut, import_rows = [], 0, 0
    for letter in latest.values():
        if not wanted(letter):
            continue
        if TRUNCATED in letter.headers:
            cut += 1  # a copy cut to fit the topic is not the message: it cannot be sent again
        elif letter.topic == imports_topic:
            # Sent again from the import's page (csv_importer/replay.py), which sends only the rows not stored
            # since and so keeps the import's counts right; a dead letter cannot tell whether its row was.
            import_rows += 1
        else:
            chosen.append(letter)
    return latest, (chosen, cut, import_rows)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is no time like 2025-07-07T10:00:00+00:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dead_letters.command("replay")
@click.option("--reason", "reasons", multiple=True, help="A reason's code, as unknown_user (repeat for more).")
@click.option("--topic", "topics", multiple=True, help="The topic the message was refused on (repeat for more).")
@click.option("--since", help="Refused at or after this time (ISO 8601; UTC unless it says).")
@click.option("--until", help="Refused before this time.")
@click.option("--transaction-id", "transaction_ids", multiple=True, help="A payment's id (repeat for more).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter (without any other choice).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, and send nothing.")
@click.option("--idle", default=3.0, show_default=True, help="Seconds of quiet that end the dead-letter topic.")
def replay(reasons, topics, since, until, transaction_ids, everything, dry_run, idle) -> None:
    """Send refused messages back to the topic they were refused on, once the cause is fixed (a user or a currency
    added): each message once, as it first arrived, with a header naming its first dead letter."""
    first, last = _moment(since), _moment(until)
    wanted_ids = {t.strip().lower() for t in transaction_ids}
    if not (reasons or topics or first or last or wanted_ids or everything):
        raise click.UsageError("say which dead letters to send again (--reason, --topic, --since, --until, "
                               "--transaction-id), or --all")
    settings = load(DeadLetterSettings)
    wanted = Wanted(set(reasons), set(topics), first, last, wanted_ids)
    latest, (chosen, cut, import_rows) = choose(read(settings, idle=idle), wanted, settings.imports_topic)
    per_topic: dict[str, int] = {}
    for letter in chosen:
        per_topic[letter.topic] = per_topic.get(letter.topic, 0) + 1
    summary = ", ".join(f"{n} to {topic}" for topic, n in sorted(per_topic.items())) or "nothing"
    skipped = f"; {cut} left out: cut to fit the dead-letter topic" if cut else ""
    if import_rows:
        skipped += (f"; {import_rows} import rows left out: send them again from their import's page, which keeps "
                    "its counts right")
    if dry_run:
        for letter in chosen:
            click.echo(f"would send {letter.first} back to {letter.topic} ({', '.join(sorted(letter.codes))})")
        click.echo(f"dry run: {summary} would be sent ({len(latest)} messages on {settings.dlq_topic}){skipped}",
                   err=True)
        return
    failed = _send(settings, chosen)
    click.echo(f"sent {summary} ({len(latest)} messages on {settings.dlq_topic}){skipped}"
               + (f"; {failed} not confirmed by the broker: run it again" if failed else ""), err=True)
    sys.exit(1 if failed else 0)


def _send(settings: DeadLetterSettings, chosen: list[DeadLetter], patience_s: float = 120.0) -> int:
    """Send the copies, waiting for room in the producer's queue rather than failing on a full one; returns how
    many the broker did not confirm within `patience_s` after the last was queued."""
    failed = []

    def delivered(error, _message):
        if error is not None:
            failed.append(error)

    producer = Producer({**producer_config(settings), "on_delivery": delivered})
    for letter in chosen:
        headers = [*letter.own_headers(), (REPLAYED_FROM, letter.first.encode())]
        produce_when_room(producer, letter.topic, letter.message.value(), letter.message.key(), headers)
        producer.poll(0)
    left = producer.flush(patience_s)
    return len(failed) + left
