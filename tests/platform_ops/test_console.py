import json

from click.testing import CliRunner

from payments_core.kafka import ensure_topics
from platform_ops.cli import cli
from tests.helpers.events import payment
from tests.helpers.kafka import read_topic


def run_producer(kafka_bootstrap, topic, lines, *args):
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PAYMENTS_TOPIC": topic}
    return CliRunner().invoke(cli, ["produce", *args], input="\n".join(lines) + "\n", env=env)


def test_each_typed_event_is_keyed_by_its_transaction_id_and_its_delivery_reported(kafka_bootstrap, new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 3)
    events = [payment(), payment(amount=12.5)]
    lines = ["# two payments", json.dumps(events[0]), "", json.dumps(events[1])]

    result = run_producer(kafka_bootstrap, topic, lines)

    assert result.exit_code == 0, result.output
    assert f"line 2: delivered to {topic} [" in result.output
    assert "line 4: delivered" in result.output
    received = {m.key().decode(): m for m in read_topic(kafka_bootstrap, topic, 2)}
    assert set(received) == {e["transaction_id"] for e in events}
    sent = received[events[1]["transaction_id"]]
    assert sent.value() == json.dumps(events[1]).encode(), "sent as typed"
    assert dict(sent.headers()) == {"payments-source": b"manual"}


def test_a_line_that_breaks_the_contract_is_not_sent_and_the_exit_status_says_so(kafka_bootstrap, new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 1)
    good, bad = payment(), payment(amount=-3)

    result = run_producer(kafka_bootstrap, topic, [json.dumps(bad), json.dumps(good)])

    assert result.exit_code == 1
    assert "line 1: not sent: amount: Input should be greater than 0" in result.output
    assert "line 2: delivered" in result.output
    assert [m.key().decode() for m in read_topic(kafka_bootstrap, topic, 1, then_wait=1.0)] == [good["transaction_id"]]


def test_no_check_sends_a_bad_line_as_typed(kafka_bootstrap, new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], 1)

    result = run_producer(kafka_bootstrap, topic, ["not json at all"], "--no-check")

    assert result.exit_code == 0, result.output
    message = read_topic(kafka_bootstrap, topic, 1)[0]
    assert (message.key(), message.value()) == (None, b"not json at all")
