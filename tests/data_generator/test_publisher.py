"""The generator's publishing across a broker restart: a producer the new broker refuses for good is replaced, and
the stream goes on by itself."""

import logging
import threading
import time

from confluent_kafka import Consumer

from data_generator.payments import PaymentStream
from data_generator.publisher import publish
from payments_core.kafka import ensure_topics, producer_config
from payments_core.settings import KafkaSettings
from platform_ops.servers import free_port, start_tansu
from tests.helpers.events import USERS
from tests.helpers.waiting import unique, wait_until


def test_after_a_broker_restart_the_generator_delivers_again_by_itself(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    port = free_port()
    brokers = [start_tansu("127.0.0.1", port, tmp_path / "logs")]
    address, topic = brokers[0].address, unique("payments")
    ensure_topics(address, [topic], 3)
    stop = threading.Event()
    config = producer_config(KafkaSettings(kafka_bootstrap_servers=address, _env_file=None),
                             **{"message.timeout.ms": 3000})
    stream = PaymentStream(USERS, seed=7)
    reports = []
    publisher = threading.Thread(target=lambda: reports.append(
        publish(stream, config, topic, rate=50, count=0, stop=stop, show_progress=False, flush_timeout=5)))
    publisher.start()
    try:
        time.sleep(2)
        brokers[0].stop()
        time.sleep(2)
        brokers.append(start_tansu("127.0.0.1", port, tmp_path / "logs"))  # the topics and producer ids are gone
        ensure_topics(address, [topic], 3)

        consumer = Consumer({"bootstrap.servers": address, "group.id": unique("reader"),
                             "auto.offset.reset": "earliest", "session.timeout.ms": 2000})
        consumer.subscribe([topic])
        arrived = []
        try:
            wait_until(lambda: arrived.extend(m for m in consumer.consume(100, 0.5) if not m.error()) or
                       len(arrived) >= 50, timeout=60, message="50 events delivered after the restart")
        finally:
            consumer.close()
        assert "replacing the Kafka producer with a new one" in caplog.text
    finally:
        stop.set()
        publisher.join(30)
        for broker in brokers:
            broker.stop()
    report = reports[0]
    assert report.failed > 0 and report.delivered >= 50, report.line()  # the outage's events count as failed
