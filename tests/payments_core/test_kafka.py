from confluent_kafka import Consumer, Producer

from payments_core.contract import PaymentEvent, parse, to_json
from payments_core.kafka import broker_answers, ensure_topics, producer_config
from payments_core.settings import KafkaSettings
from platform_ops.servers import free_port
from tests.helpers.events import PUBLIC_EXAMPLE


def test_topics_are_created_once_with_their_partitions(kafka_bootstrap, new_topic_name):
    topic = new_topic_name()

    first = ensure_topics(kafka_bootstrap, [topic], partitions=4)
    second = ensure_topics(kafka_bootstrap, [topic], partitions=8)

    assert first == {topic: 4}
    assert second == {topic: 4}, "an existing topic keeps its partitions"


def test_a_payment_keyed_by_transaction_id_arrives_intact(kafka_bootstrap, new_topic_name):
    topic = new_topic_name()
    ensure_topics(kafka_bootstrap, [topic], partitions=3)
    event = parse(PaymentEvent, PUBLIC_EXAMPLE)
    producer = Producer(producer_config(KafkaSettings(kafka_bootstrap_servers=kafka_bootstrap)))
    producer.produce(topic, key=str(event.transaction_id), value=to_json(event))
    assert producer.flush(10) == 0

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": new_topic_name("group"),
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    try:
        message = None
        for _ in range(30):
            message = consumer.poll(1)
            if message is not None and not message.error():
                break
    finally:
        consumer.close()

    assert message is not None and message.error() is None
    assert message.key() == str(event.transaction_id).encode()
    assert parse(PaymentEvent, message.value()) == event


def test_a_closed_port_is_not_a_broker():
    assert broker_answers(f"127.0.0.1:{free_port()}", timeout=0.5) is False
