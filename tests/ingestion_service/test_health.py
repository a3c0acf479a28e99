"""/health tells the truth: 503 while the broker is away, while nothing moves on a visible lag; and after a broker
restart that lost the topics and the group, the service joins again and consumes by itself."""

import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from payments_core.db.models import Transaction
from payments_core.kafka import ensure_topics
from platform_ops.servers import free_port, start_tansu
from tests.helpers.events import message, payment
from tests.helpers.kafka import produce, read_topic
from tests.helpers.waiting import wait_until


def _count(engine):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Transaction))


def _status(running) -> tuple[int, dict]:
    return running.service.metrics.health()


@pytest.fixture
def own_broker(tmp_path):
    """A broker of the test's own, which the test may stop and start again on the same port."""
    port = free_port()
    brokers = [start_tansu("127.0.0.1", port, tmp_path / "logs")]
    yield brokers
    for broker in brokers:
        broker.stop()


def test_after_a_broker_restart_that_lost_everything_the_service_consumes_again_by_itself(
    ingestion_settings, start_service, engine, own_broker, caplog, tmp_path
):
    caplog.set_level(logging.INFO)
    broker = own_broker[0]
    s = ingestion_settings.model_copy(update={"kafka_bootstrap_servers": broker.address})
    topics = [s.payments_topic, s.imports_topic, s.dlq_topic]
    ensure_topics(broker.address, topics, 3)
    running = start_service(s)
    produce(broker.address, s.payments_topic, [message(payment()), (None, b"not json, before the restart")])
    wait_until(lambda: _count(engine) == 1, message="the first payment")
    read_topic(broker.address, s.dlq_topic, 1)
    wait_until(lambda: _status(running)[0] == 200, message="healthy")

    broker.stop()
    status, body = wait_until(lambda: (h := _status(running))[0] == 503 and h, message="503 while down")
    assert "the Kafka broker is unreachable" in body["problems"]
    before = len(caplog.records)
    time.sleep(5)
    outage_lines = len(caplog.records) - before
    # The first seconds of an outage bring a few distinct events (the coordinator lost, the session timed out,
    # the partitions revoked); a repeating line would bring about 100 in 5 s.
    assert outage_lines < 10, f"{outage_lines} log lines in about 5 s of outage:\n{caplog.text}"

    # The broker keeps everything in memory: topics and the group are gone, and come back a while later.
    own_broker.append(start_tansu("127.0.0.1", int(broker.address.rsplit(":", 1)[1]), tmp_path / "logs"))
    # Nothing of the service's makes the topics again with the broker's own default: it says they are missing.
    status, body = wait_until(lambda: (h := _status(running))[0] == 503 and any("does not exist" in p for p in
                              h[1]["problems"]) and h, timeout=30, message="the missing topics named")
    assert f"topic {s.dlq_topic!r} does not exist; `payments setup` creates it" in body["problems"], body
    ensure_topics(broker.address, topics, 3)
    produce(broker.address, s.payments_topic, [message(payment()) for _ in range(10)])
    produce(broker.address, s.payments_topic, [(None, b"not json, after the restart")])

    wait_until(lambda: _count(engine) == 11, timeout=90, message="the payments sent after the restart")
    # The dead-letter producer, refused by the new broker, is replaced: the refusal reaches the topic.
    assert read_topic(broker.address, s.dlq_topic, 1, timeout=90)[0].value() == b"not json, after the restart"
    wait_until(lambda: _status(running)[0] == 200, message="healthy again")
    assert "broker reachable again" in caplog.text
    assert running.thread.is_alive()
    assert {name: count for name, count in ensure_topics(broker.address, topics, 3).items()} == dict.fromkeys(
        topics, 3), "no client of the service made a topic with the broker's default partition count"


def test_a_topic_with_fewer_partitions_than_configured_is_a_problem_in_health(ingestion_settings, start_service,
                                                                             kafka_bootstrap):
    s = ingestion_settings.model_copy(update={"topic_partitions": 4})  # the fixture made them with 3
    running = start_service(s)
    status, body = wait_until(lambda: (h := _status(running))[0] == 503 and "fewer than" in str(h[1]) and h,
                              timeout=30, message="503 naming the topics")
    assert f"topic {s.payments_topic!r} has 3 partitions, fewer than TOPIC_PARTITIONS=4; keys now go to other " \
           "partitions than before: recreate it with `payments setup`" in body["problems"], body


def test_health_is_503_while_messages_wait_and_nothing_is_committed(ingestion_settings, start_service, engine):
    s = ingestion_settings.model_copy(update={"ingestion_stall_seconds": 5})
    running = start_service(s)
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment())])
    wait_until(lambda: _count(engine) == 1, message="the first payment")
    wait_until(lambda: _status(running)[0] == 200, message="healthy")

    # A lock held elsewhere (a migration, a long manual fix) stops every write without any error.
    locked = threading.Event()
    release = threading.Event()

    def hold_lock():
        with engine.begin() as conn:
            conn.exec_driver_sql("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(60)

    holder = threading.Thread(target=hold_lock, daemon=True)
    holder.start()
    locked.wait(10)
    try:
        produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment()) for _ in range(20)])
        status, body = wait_until(lambda: (h := _status(running))[0] == 503 and h, timeout=30,
                                  message="503 while stuck")
        assert any("nothing committed" in p or "has not run" in p for p in body["problems"]), body
    finally:
        release.set()
        holder.join(10)

    wait_until(lambda: _count(engine) == 21, message="the waiting payments, once the lock is gone")
    wait_until(lambda: _status(running)[0] == 200, message="healthy again")


def test_an_instance_that_holds_no_partition_says_so_though_its_consumer_sees_no_topic(ingestion_settings,
                                                                                      start_service):
    # A consumer that holds nothing has no topic in its own statistics: the count comes from the broker's metadata.
    running = [start_service(ingestion_settings) for _ in range(4)]  # 3 partitions per topic: one holds none
    def idle():
        bodies = [_status(r)[1] for r in running if r.service.metrics.assigned == 0]
        return [b for b in bodies if any(p.startswith("no partition held for") for p in b["problems"])]

    body = wait_until(idle, timeout=60, message="an instance with none, saying so")[0]
    assert any(p.startswith("no partition held for") and p.endswith("while the topics have 6")
               for p in body["problems"]), body
