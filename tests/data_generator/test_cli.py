"""`payments generate` against a real broker and PostgreSQL."""

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
from sqlalchemy import func, select

from payments_core.contract import ContractError, PaymentEvent, parse
from payments_core.db.models import RejectedEvent, Transaction
from payments_core.kafka import ensure_topics
from platform_ops.cli import cli
from platform_ops.servers import free_port
from tests.helpers.kafka import read_topic
from tests.helpers.waiting import wait_until


def generate(env, *args):
    return CliRunner().invoke(cli, ["generate", *args], env=env)


def environment(kafka_bootstrap, database_url, topic, **more):
    return {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": database_url, "PAYMENTS_TOPIC": topic,
            **more}


def test_every_event_is_confirmed_keyed_and_marked_as_the_generators(kafka_bootstrap, database_url,
                                                                     new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 3)

    result = generate(environment(kafka_bootstrap, database_url, topic), "--rate", "0", "--count", "500")

    assert result.exit_code == 0, result.output
    messages = read_topic(kafka_bootstrap, topic, 500, then_wait=1.0)
    for message in messages:
        assert message.key() == json.loads(message.value())["transaction_id"].encode()
        assert dict(message.headers()) == {"payments-source": b"generator"}


def test_the_same_seed_publishes_the_same_payments(kafka_bootstrap, database_url, new_topic_name):
    topics = [new_topic_name(), new_topic_name()]
    ensure_topics(kafka_bootstrap, topics, 1)

    for topic in topics:
        assert generate(environment(kafka_bootstrap, database_url, topic),
                        "--rate", "0", "--count", "200", "--seed", "42").exit_code == 0

    def content(topic):
        events = [json.loads(m.value()) for m in read_topic(kafka_bootstrap, topic, 200)]
        return [{k: v for k, v in e.items() if k != "timestamp"} for e in events]

    assert content(topics[0]) == content(topics[1])


def test_generated_payments_land_and_injected_invalid_ones_are_refused(ingestion_settings, start_service, engine):
    s = ingestion_settings
    env = environment(s.kafka_bootstrap_servers, s.database_url, s.payments_topic)
    start_service(s)

    result = generate(env, "--rate", "0", "--count", "400", "--seed", "9", "--invalid-ratio", "0.1")

    assert result.exit_code == 0, result.output
    published = [m.value() for m in read_topic(s.kafka_bootstrap_servers, s.payments_topic, 400)]
    accepted = {}
    for value in published:
        try:
            event = parse(PaymentEvent, value)
        except ContractError:
            continue
        if str(event.sender_id) != UNKNOWN_USER and event.currency_code != 1:
            accepted[event.transaction_id] = event
    refused = 400 - sum(1 for v in published if _accepted(v, accepted))
    assert refused > 10

    def counts():
        with engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(Transaction)),
                    conn.scalar(select(func.count()).select_from(RejectedEvent)))

    wait_until(lambda: counts() == (len(accepted), refused), message="a row per valid transaction, a refusal each")
    with engine.connect() as conn:
        assert set(conn.scalars(select(Transaction.source).distinct())) == {"generator"}


UNKNOWN_USER = "00000000-0000-4000-8000-000000000000"  # the generator's injected unknown sender


def _accepted(value, accepted) -> bool:
    try:
        event = parse(PaymentEvent, value)
    except ContractError:
        return False
    return event.transaction_id in accepted and str(event.sender_id) != UNKNOWN_USER


def test_an_unreachable_broker_ends_with_status_1_and_the_reason(database_url):
    env = environment(f"127.0.0.1:{free_port()}", database_url, "payments-events",
                      GENERATOR_DELIVERY_TIMEOUT_MS="1500")

    result = generate(env, "--rate", "0", "--count", "5")

    assert result.exit_code == 1
    assert "0 confirmed, 5 failed" in result.output


def test_sigterm_stops_after_every_event_sent_is_confirmed(kafka_bootstrap, database_url, new_topic_name, tmp_path):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 3)
    env = {**os.environ, **environment(kafka_bootstrap, database_url, topic)}
    log = tmp_path / "generate.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "platform_ops.cli", "generate", "--rate", "200"],
                                   env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "publishing to" in log.read_text(), message="the generator publishing")
        time.sleep(1)  # let it publish for a while; the assertions below count what it says it sent
        process.send_signal(signal.SIGTERM)
        status = process.wait(60)
    finally:
        process.kill()

    assert status == 0, log.read_text()
    done = log.read_text().split("done: ")[1]
    sent = int(done.split(" sent")[0].replace(",", ""))
    assert f"{sent:,} confirmed, 0 failed" in done
    assert sent > 50
    read_topic(kafka_bootstrap, topic, sent, then_wait=1.0)


def test_without_a_seed_each_run_publishes_new_payments(kafka_bootstrap, database_url, new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 1)
    env = environment(kafka_bootstrap, database_url, topic)

    for _ in range(2):
        assert generate(env, "--rate", "0", "--count", "50").exit_code == 0

    ids = {json.loads(m.value())["transaction_id"] for m in read_topic(kafka_bootstrap, topic, 100)}
    assert len(ids) > 60, "the second run did not repeat the first"


def test_the_generators_counters_are_served_to_prometheus(kafka_bootstrap, database_url, new_topic_name, tmp_path):
    import urllib.request

    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 3)
    port = free_port()
    env = {**os.environ, **environment(kafka_bootstrap, database_url, topic, GENERATOR_METRICS_PORT=str(port))}
    log = tmp_path / "generate.log"

    def sent() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        return float(next(line.split()[1] for line in text.splitlines()
                          if line.startswith("payments_generator_events_sent_total ")))

    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "platform_ops.cli", "generate", "--rate", "100"],
                                   env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "metrics at" in log.read_text(), message="the metrics served")
        first = wait_until(lambda: sent() or None, message="events counted")
        wait_until(lambda: sent() > first, message="the count growing")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)

    done = log.read_text().split("done: ")[1]
    assert int(done.split(" sent")[0].replace(",", "")) >= first  # what it served, it sent
