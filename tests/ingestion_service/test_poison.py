"""Messages that once stopped the service, through a real broker and PostgreSQL: each is refused alone, with a
reason naming the field, recorded once and dead-lettered, and everything after it lands."""

import json
import uuid

from sqlalchemy import func, select, text

from payments_core.db.models import RejectedEvent, Transaction
from tests.helpers.events import ALICE, import_row, message, payment
from tests.helpers.kafka import produce, produce_records, read_topic
from tests.helpers.waiting import wait_until

ONE_MB = 1024 * 1024


def _count(engine, model):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def _refusals(engine) -> dict:
    with engine.connect() as conn:
        return {r.offset: r for r in conn.execute(select(RejectedEvent))}


def test_poison_on_either_topic_is_refused_with_its_field_and_the_service_goes_on(
    ingestion_settings, start_service, engine
):
    s = ingestion_settings
    # (topic, record, the field named, the reason's code)
    poison = [
        (s.payments_topic, {"value": json.dumps(payment(status="pending\u0000")).encode()}, "status",
         "bad_character"),
        (s.payments_topic, {"value": json.dumps(payment(**{"no\ud800te": 1})).encode()}, "no\\ud800te",
         "bad_character"),
        (s.payments_topic, {"value": json.dumps(payment(timestamp="9999-12-31T23:59:00-05:00")).encode()},
         "timestamp", "timestamp_out_of_range"),
        (s.payments_topic, {"value": json.dumps(payment(transaction_id=str(uuid.UUID(int=0)))).encode()},
         "transaction_id", "nil_uuid"),
        (s.payments_topic, {"value": b'{"a": 1, "a": 2}'}, "a", "duplicate_key"),
        (s.payments_topic, {"value": b"x" * (ONE_MB + 10)}, "", "too_large"),
        (s.imports_topic, {"value": json.dumps(import_row(username_sender="ali\u0000ce")).encode()},
         "username_sender", "bad_character"),
        (s.imports_topic, {"value": json.dumps(import_row(line_number=2**40)).encode()}, "line_number",
         "less_than_equal"),
        # Valid events in messages whose Kafka timestamp or headers are odd are still valid.
    ]
    odd_but_valid = [
        {"value": json.dumps(payment()).encode(), "timestamp": 2**62},
        {"value": json.dumps(payment()).encode(), "headers": [("payments-source", None), ("\u00e9", b"\x00\xff")]},
    ]
    for topic, record, _, _ in poison:
        produce_records(s.kafka_bootstrap_servers, topic, [record])
    produce_records(s.kafka_bootstrap_servers, s.payments_topic, odd_but_valid)
    after = [payment(amount=i + 1) for i in range(20)]
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(e) for e in after])

    running = start_service(s)

    wait_until(lambda: _count(engine, Transaction) == len(after) + len(odd_but_valid), message="every valid payment")
    wait_until(lambda: _count(engine, RejectedEvent) == len(poison), message="a refusal per poison message")
    assert running.thread.is_alive()
    with engine.connect() as conn:
        records = list(conn.execute(select(RejectedEvent)))
    found = {(r.topic, r.reasons[0]["field"]): r for r in records}
    for topic, record, field, code in poison:
        refusal = found[(topic, field)]
        assert refusal.reasons[0]["code"] == code, refusal.reasons
        assert refusal.payload_size == len(record["value"])
    huge = found[(s.payments_topic, "")]
    assert len(huge.payload) == 64 * 1024, "cut at 64 KiB in rejected_events; payload_size keeps the whole size"

    dead = read_topic(s.kafka_bootstrap_servers, s.dlq_topic, len(poison))
    (cut,) = [m for m in dead if dict(m.headers()).get("payments.errors.truncated")]
    expected = f"value: kept {512 * 1024} of {ONE_MB + 10} bytes".encode()
    assert dict(cut.headers())["payments.errors.truncated"] == expected
    assert len(cut.value()) == 512 * 1024


def test_a_message_the_database_fails_on_unexpectedly_is_set_aside_as_internal_and_the_batch_lands(
    ingestion_settings, start_service, engine
):
    # A failure nobody planned for: not a constraint or a bad value, which are refused row by row, but an error
    # of a kind the service has no rule for, raised for one message only.
    with engine.begin() as conn:
        conn.execute(text("""
            CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.amount = 666 THEN RAISE EXCEPTION 'nobody planned for this'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_666 BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_666();
        """))
    events = [payment(amount=i + 1) for i in range(200)]
    events[137] = payment(amount=666)
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
            [message(e) for e in events])

    running = start_service(ingestion_settings)

    wait_until(lambda: _count(engine, Transaction) == 199, message="the 199 others")
    wait_until(lambda: _count(engine, RejectedEvent) == 1, message="the refusal")
    with engine.connect() as conn:
        refusal = conn.execute(select(RejectedEvent)).one()
    assert refusal.reasons[0]["code"] == "internal"
    assert "nobody planned for this" in refusal.reasons[0]["message"]
    assert refusal.transaction_id == uuid.UUID(events[137]["transaction_id"])
    dead = read_topic(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.dlq_topic, 1)
    assert dict(dead[0].headers())["__connect.errors.exception.class.name"] == b"InternalError"
    assert running.thread.is_alive()


def test_consumed_equals_upserted_plus_collapsed_plus_refused(ingestion_settings, start_service, engine):
    s = ingestion_settings
    events = [payment(amount=i + 1) for i in range(300)]
    repeats = [{**e, "status": "completed"} for e in events[:100]]
    bad = [(b"k", b"not json")] * 5 + [message(payment(receiver_id=str(ALICE.user_id)))]
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(e) for e in events + repeats] + bad)

    running = start_service(s)

    wait_until(lambda: _count(engine, RejectedEvent) == 6 and _count(engine, Transaction) == 300, message="all")
    metrics = running.service.metrics
    topic = s.payments_topic
    wait_until(lambda: metrics.consumed.labels(topic)._value.get() == 406, message="406 consumed")
    upserted = metrics.upserted.labels(topic)._value.get()
    collapsed = metrics.collapsed.labels(topic)._value.get()
    refused = sum(sample.value for sample in metrics.rejected.collect()[0].samples
                  if sample.name.endswith("_total") and sample.labels["topic"] == topic)
    assert (upserted + collapsed + refused) == 406
    assert refused == 6

