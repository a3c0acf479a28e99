"""Versions of a payment are applied in lifecycle order, whatever order they arrive in: every pair of (stored
status and time, incoming status and time), through the real service and PostgreSQL, in separate batches, within
one batch, and without keys across two instances."""

import itertools
import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from ingestion_service.lifecycle import APPLY, CONFLICT, EQUAL, OLDER, verdict
from tests.helpers.events import message, payment
from tests.helpers.kafka import produce
from tests.helpers.waiting import wait_until

T = datetime.fromisoformat("2025-07-07T01:42:05+00:00")
TIMES = {"earlier": T - timedelta(minutes=5), "same": T, "later": T + timedelta(minutes=5)}
STATUSES = ("pending", "completed", "failed")
# (stored status, incoming status, incoming time) -> what becomes of the incoming version.
EXPECTED = {
    ("pending", "pending", "earlier"): OLDER, ("pending", "pending", "same"): EQUAL,
    ("pending", "pending", "later"): APPLY,
    ("pending", "completed", "earlier"): APPLY, ("pending", "completed", "same"): APPLY,
    ("pending", "completed", "later"): APPLY,
    ("pending", "failed", "earlier"): APPLY, ("pending", "failed", "same"): APPLY,
    ("pending", "failed", "later"): APPLY,
    ("completed", "pending", "earlier"): OLDER, ("completed", "pending", "same"): OLDER,
    ("completed", "pending", "later"): OLDER,
    ("completed", "completed", "earlier"): OLDER, ("completed", "completed", "same"): EQUAL,
    ("completed", "completed", "later"): APPLY,
    ("completed", "failed", "earlier"): CONFLICT, ("completed", "failed", "same"): CONFLICT,
    ("completed", "failed", "later"): CONFLICT,
    ("failed", "pending", "earlier"): OLDER, ("failed", "pending", "same"): OLDER,
    ("failed", "pending", "later"): OLDER,
    ("failed", "completed", "earlier"): CONFLICT, ("failed", "completed", "same"): CONFLICT,
    ("failed", "completed", "later"): CONFLICT,
    ("failed", "failed", "earlier"): OLDER, ("failed", "failed", "same"): EQUAL,
    ("failed", "failed", "later"): APPLY,
}
CASES = list(itertools.product(STATUSES, STATUSES, TIMES))


def test_the_table_covers_every_pair_and_the_rule_says_the_same():
    assert set(EXPECTED) == set(CASES)
    for stored, incoming, when in CASES:
        assert verdict(stored, T, incoming, TIMES[when]) == EXPECTED[(stored, incoming, when)]


def versions():
    """For each case: the stored version, then the incoming one (a different amount, so that an applied version
    shows)."""
    pairs = []
    for stored, incoming, when in CASES:
        first = payment(status=stored, amount=100, timestamp=T.isoformat())
        second = {**first, "status": incoming, "amount": 200, "timestamp": TIMES[when].isoformat()}
        pairs.append((first, second))
    return pairs


def consumed(running, topic) -> float:
    return running.service.metrics.registry.get_sample_value("payments_ingest_messages_consumed_total",
                                                             {"topic": topic}) or 0


def state(engine, transaction_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, transaction_date, amount FROM transactions "
                                 "WHERE transaction_id = :id"), {"id": uuid.UUID(transaction_id)}).one()


def superseded(engine):
    with engine.connect() as conn:
        return {str(tid): reason for tid, reason in conn.execute(text(
            "SELECT transaction_id, reason FROM superseded_events"))}


def assert_each_case_ended_as_the_rule_says(engine, pairs):
    recorded = superseded(engine)
    for (first, second), case in zip(pairs, CASES, strict=True):
        # The same status and time with another amount is no repeat of the stored version: two that can't both hold.
        expected = CONFLICT if EXPECTED[case] == EQUAL else EXPECTED[case]
        status, when, amount = state(engine, first["transaction_id"])
        winner = second if expected == APPLY else first
        assert (status, when, int(amount)) == (winner["status"], datetime.fromisoformat(winner["timestamp"]),
                                               int(winner["amount"])), case
        assert recorded.get(first["transaction_id"]) == (expected if expected in (OLDER, CONFLICT) else None), case


def test_every_pair_in_separate_batches(ingestion_settings, start_service, engine):
    pairs = versions()
    running = start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic
    produce(bootstrap, topic, [message(first) for first, _ in pairs])
    wait_until(lambda: consumed(running, topic) >= len(pairs), message="the stored versions")

    produce(bootstrap, topic, [message(second) for _, second in pairs])
    wait_until(lambda: consumed(running, topic) >= 2 * len(pairs), message="the incoming versions")

    assert_each_case_ended_as_the_rule_says(engine, pairs)


def test_every_pair_within_one_batch(ingestion_settings, start_service, engine):
    pairs = versions()
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic
    produce(bootstrap, topic, [message(m) for pair in pairs for m in pair])  # both versions before the service

    running = start_service(ingestion_settings.model_copy(update={"ingestion_batch_max_wait_ms": 2000}))
    wait_until(lambda: consumed(running, topic) >= 2 * len(pairs), message="every version")

    assert_each_case_ended_as_the_rule_says(engine, pairs)


def test_without_keys_two_instances_still_end_at_the_furthest_version(ingestion_settings, start_service, engine):
    """Unkeyed messages of one payment land on any partition, so two instances write them in any order. Where the
    rule has a furthest version (everything but a conflict, where the first final status stays), it ends there."""
    pairs = [(first, second) for (first, second), case in zip(versions(), CASES, strict=True)
             if EXPECTED[case] != CONFLICT]
    one, two = start_service(ingestion_settings), start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic

    produce(bootstrap, topic, [(None, value) for pair in pairs for _, value in map(message, pair)])
    wait_until(lambda: consumed(one, topic) + consumed(two, topic) >= 2 * len(pairs), timeout=60,
               message="every version, by either instance")

    for (first, second), case in zip(pairs, [c for c in CASES if EXPECTED[c] != CONFLICT], strict=True):
        furthest = second if EXPECTED[case] == APPLY else first
        status, when, _ = state(engine, first["transaction_id"])
        assert (status, when) == (furthest["status"], datetime.fromisoformat(furthest["timestamp"])), case


def test_a_stale_version_is_counted_by_reason(ingestion_settings, start_service, engine):
    first = payment(status="completed")
    running = start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic
    produce(bootstrap, topic, [message(first)])
    wait_until(lambda: consumed(running, topic) >= 1, message="the completed payment")
    produce(bootstrap, topic, [message({**first, "status": "pending"})])
    wait_until(lambda: consumed(running, topic) >= 2, message="the late pending version")
    produce(bootstrap, topic, [message({**first, "status": "failed"})])
    wait_until(lambda: consumed(running, topic) >= 3, message="the contradicting failed version")

    def count(reason):
        return running.service.metrics.registry.get_sample_value("payments_ingest_stale_total",
                                                                 {"topic": topic, "reason": reason})

    assert (count("older"), count("conflict")) == (1, 1)
    assert state(engine, first["transaction_id"])[0] == "completed"


def test_a_version_of_the_same_status_and_time_with_other_content_is_a_conflict_and_says_where(
    ingestion_settings, start_service, engine
):
    stored = payment(status="completed", amount=100)
    other_amount = {**stored, "amount": 101}
    other_parties = {**stored, "sender_id": stored["receiver_id"], "receiver_id": stored["sender_id"]}
    running = start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic
    produce(bootstrap, topic, [message(stored)])
    wait_until(lambda: consumed(running, topic) >= 1, message="the stored version")
    produce(bootstrap, topic, [message(stored), message(other_amount), message(other_parties)])
    wait_until(lambda: consumed(running, topic) >= 4, message="the repeat and the two other versions")

    with engine.connect() as conn:
        recorded = sorted(conn.execute(text(
            "SELECT reason, stored_status, incoming_status, differing_fields FROM superseded_events "
            "ORDER BY \"offset\"")).all())
    assert recorded == [("conflict", "completed", "completed", ["amount"]),
                        ("conflict", "completed", "completed", ["sender_id", "receiver_id"])]
    assert int(state(engine, stored["transaction_id"])[2]) == 100, "the stored version stays"
    metric = running.service.metrics.registry.get_sample_value
    assert metric("payments_ingest_stale_total", {"topic": topic, "reason": "conflict"}) == 2
    assert metric("payments_ingest_rows_upserted_total", {"topic": topic}) == 2, "the first and its repeat only"
