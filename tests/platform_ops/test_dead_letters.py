"""`payments dead-letters replay`: a message refused for a cause since fixed is sent again, stored once, and a
second replay changes nothing more."""

from __future__ import annotations

import uuid
from datetime import UTC

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from platform_ops.cli import cli
from tests.helpers.events import message, payment
from tests.helpers.kafka import produce, read_topic
from tests.helpers.waiting import wait_until


def replay(settings, *args):
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "DLQ_TOPIC": settings.dlq_topic,
           "IMPORTS_TOPIC": settings.imports_topic}
    return CliRunner().invoke(cli, ["dead-letters", "replay", "--idle", "3", *args], env=env)


def stored(engine, transaction_id) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT status, amount, modified_at FROM transactions WHERE transaction_id = :id"),
            {"id": transaction_id})]


def consumed(running, topic) -> float:
    return running.service.metrics.registry.get_sample_value("payments_ingest_messages_consumed_total",
                                                             {"topic": topic}) or 0


def refusals(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM rejected_events"))


def test_a_payment_refused_for_an_unknown_user_is_stored_once_replayed(ingestion_settings, start_service, engine):
    s = ingestion_settings
    newcomer = uuid.uuid4()
    waiting = payment(sender_id=str(newcomer))
    broken = payment(amount=-3)  # refused for another reason: not chosen
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(waiting), message(broken)])
    running = start_service(s)
    wait_until(lambda: refusals(engine) == 2, message="both refusals")

    early = replay(s, "--reason", "unknown_user")  # the user is still unknown: refused again, one more dead letter
    wait_until(lambda: refusals(engine) == 3, message="the early replay refused again")
    dry = replay(s, "--reason", "unknown_user", "--dry-run")
    with engine.begin() as conn:  # the cause fixed: the user added
        conn.execute(text("INSERT INTO users (user_id, username, full_name, email) VALUES (:id, 'newcomer', "
                          "'New Comer', 'new@example.org')"), {"id": newcomer})
    first = replay(s, "--reason", "unknown_user")
    wait_until(lambda: stored(engine, waiting["transaction_id"]), message="the replayed payment stored")
    after_first = stored(engine, waiting["transaction_id"])
    second = replay(s, "--reason", "unknown_user")

    assert early.exit_code == 0 and "sent 1 to " + s.payments_topic in early.output, early.output
    assert dry.exit_code == 0 and "dry run: 1 to " + s.payments_topic in dry.output, dry.output
    assert "would send " + s.dlq_topic in dry.output  # the first dead letter, not the early replay's
    assert first.exit_code == 0 and "sent 1 to" in first.output, first.output
    assert second.exit_code == 0 and "sent 1 to" in second.output, second.output
    copies = read_topic(s.kafka_bootstrap_servers, s.payments_topic, 5, then_wait=3)  # 2 produced, 3 replayed
    replayed = [dict(m.headers() or []) for m in copies if b"payments.replayed-from" in
                [k.encode() for k, _ in m.headers() or []]]
    assert len(replayed) == 3 and len({h["payments.replayed-from"] for h in replayed}) == 1
    wait_until(lambda: consumed(running, s.payments_topic) >= 5, message="every copy read by the service")
    assert refusals(engine) == 3  # the replays after the fix were not refused
    assert stored(engine, waiting["transaction_id"]) == after_first  # the second replay changed nothing
    assert len(after_first) == 1 and after_first[0][0] == waiting["status"]
    assert stored(engine, broken["transaction_id"]) == []


def test_replay_asks_what_to_send(ingestion_settings):
    answer = replay(ingestion_settings)

    assert answer.exit_code == 2 and "--all" in answer.output


def test_import_rows_are_not_replayed_but_sent_back_to_their_file(ingestion_settings, start_service, engine):
    from tests.helpers.events import import_row

    s = ingestion_settings
    produce(s.kafka_bootstrap_servers, s.imports_topic, [message(import_row(username_sender="nobody-yet"))])
    start_service(s)
    wait_until(lambda: refusals(engine) == 1, message="the import row refused")

    answer = replay(s, "--all")

    assert answer.exit_code == 0 and "sent nothing" in answer.output, answer.output
    assert "1 import rows left out: send them again from their import's page" in answer.output


# --- whatever the dead-letter topic holds ------------------------------------------------------------------------

NAMES = st.sampled_from(["__connect.errors.topic", "payments.replayed-from", "payments.errors.reasons",
                         "payments.errors.truncated", "payments-source", "trace"]) | st.text(max_size=12)
VALUES = st.none() | st.binary(max_size=40) | st.sampled_from(
    [b"payments-events", b"imports", b"", b"dlq/0/1", b"dlq/0/2", b'[{"code": "unknown_user"}]', b"[1]", b"{"])


@st.composite
def dead_letter(draw):
    from confluent_kafka import Message

    from platform_ops.dead_letters import DeadLetter

    message = Message(topic="dlq", partition=draw(st.integers(0, 2)), offset=draw(st.integers(0, 5)),
                      key=draw(st.none() | st.binary(max_size=8)), value=draw(st.none() | st.binary(max_size=60)),
                      headers=draw(st.lists(st.tuples(NAMES, VALUES), max_size=6)),
                      timestamp=(draw(st.sampled_from([0, 1, 2])), draw(st.integers(-(2**63), 2**63 - 1))))
    return DeadLetter.of(message)


@settings(max_examples=300)
@given(letters=st.lists(dead_letter(), max_size=12), reasons=st.sets(st.sampled_from(["unknown_user", "missing"])),
       topics=st.sets(st.sampled_from(["payments-events", "imports"])),
       since=st.none() | st.datetimes(timezones=st.just(UTC)), until=st.none() | st.datetimes(timezones=st.just(UTC)))
def test_any_dead_letters_give_each_message_once_and_never_a_cut_copy_or_an_import_row(letters, reasons, topics,
                                                                                      since, until):
    from platform_ops.dead_letters import TRUNCATED, Wanted, choose

    wanted = Wanted(reasons, topics, since, until)

    latest, (chosen, cut, import_rows) = choose(letters, wanted, "imports")

    firsts = [letter.first for letter in chosen]
    assert len(firsts) == len(set(firsts))  # each message once
    assert all(latest[f] is letter for f, letter in zip(firsts, chosen, strict=True))  # as its latest refusal left it
    for letter in chosen:
        assert wanted(letter) and letter.topic and letter.topic != "imports" and TRUNCATED not in letter.headers
        assert all(k != "payments.replayed-from" and not k.startswith("__connect.errors.")
                   for k, _ in letter.own_headers())
    assert len(chosen) + cut + import_rows <= len(latest) <= len(letters)
