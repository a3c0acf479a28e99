"""Property-based tests of the running service, through a real broker and PostgreSQL: whatever messages arrive
(any bytes, any JSON, any key, headers and Kafka timestamp, on either topic), the service stays alive, every
partition keeps moving, and every message is accounted for: consumed = upserted + collapsed + stale + refused,
each refusal recorded where a person can read it, each stale version too."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from payments_core.db.models import RejectedEvent, SupersededEvent, Transaction
from tests.helpers.events import import_row, payment
from tests.helpers.kafka import produce_records
from tests.helpers.waiting import wait_until

any_text = st.text(st.characters(codec=None, categories=None), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)


def _encoded(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def values(draw, valid):
    """A message value: bytes, any JSON object, a valid event with one field changed, or a large one."""
    kind = draw(st.sampled_from(["bytes", "object", "changed", "changed", "valid", "large"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "object":
        return _encoded(draw(st.dictionaries(any_text, json_values, max_size=8)))
    event = valid()
    if kind == "changed":
        event[draw(st.sampled_from([*event, "extra"]))] = draw(json_values)
    if kind == "large":
        event["note"] = "x" * draw(st.sampled_from([60_000, 70_000, 1_100_000]))
    return _encoded(event)


@st.composite
def records(draw, settings):
    topic = draw(st.sampled_from([settings.payments_topic, settings.imports_topic]))
    valid = payment if topic == settings.payments_topic else import_row
    record = {"value": draw(values(valid))}
    if draw(st.booleans()):
        record["key"] = draw(st.binary(max_size=40))
    if draw(st.booleans()):
        header_value = st.none() | st.binary(max_size=40)
        record["headers"] = draw(st.lists(st.tuples(st.text(max_size=20), header_value), max_size=4))
    if draw(st.booleans()):
        record["timestamp"] = draw(st.integers(min_value=1, max_value=2**63 - 1))
    return topic, record


def _count(engine, model, where=None):
    with engine.connect() as conn:
        query = select(func.count()).select_from(model)
        return conn.scalar(query if where is None else query.where(where))


def _total(counter) -> float:
    return sum(s.value for s in counter.collect()[0].samples if s.name.endswith("_total"))


@pytest.fixture
def running(ingestion_settings, start_service):
    service = start_service(ingestion_settings)
    service.produced = 0  # messages sent so far, across Hypothesis's examples
    return service


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_messages_leave_the_service_alive_every_partition_moving_and_every_message_counted(
    ingestion_settings, running, engine, data
):
    s = ingestion_settings
    batch = data.draw(st.lists(records(s), min_size=1, max_size=15), label="messages")
    for topic, record in batch:
        produce_records(s.kafka_bootstrap_servers, topic, [record])
    # Then one valid message on every partition of both topics: each must land after whatever came before it.
    markers = []
    for topic, valid in ((s.payments_topic, payment), (s.imports_topic, import_row)):
        for partition in range(s.topic_partitions):
            event = valid()
            markers.append(uuid.UUID(event["transaction_id"]))
            produce_records(s.kafka_bootstrap_servers, topic, [{"value": _encoded(event), "partition": partition}])

    running.produced += len(batch) + len(markers)

    wait_until(lambda: _count(engine, Transaction, Transaction.transaction_id.in_(markers)) == len(markers),
               timeout=60, message="a valid message on every partition, after the others")
    assert running.thread.is_alive(), "the service stopped"

    metrics = running.service.metrics
    wait_until(lambda: _total(metrics.consumed) == running.produced,
               message="every message consumed")
    refused, stale = _total(metrics.rejected), _total(metrics.stale)
    assert _total(metrics.consumed) == _total(metrics.upserted) + _total(metrics.collapsed) + stale + refused
    wait_until(lambda: _count(engine, RejectedEvent) == refused, message="every refusal recorded")
    assert _count(engine, SupersededEvent) == stale, "every stale version recorded"
