"""The ingestion service against a real broker and a real PostgreSQL."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select, text

from payments_core.db.models import RejectedEvent, Transaction
from tests.helpers.events import ALICE, BOB, CAROL, import_row, message, payment
from tests.helpers.kafka import produce
from tests.helpers.waiting import wait_until


def row(engine, transaction_id):
    with engine.connect() as conn:
        return conn.execute(select(Transaction).where(Transaction.transaction_id == uuid.UUID(transaction_id))).first()


def count(engine, model=Transaction):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_a_valid_payment_becomes_a_row_with_exactly_its_values(ingestion_settings, start_service, engine):
    event = payment(amount=8000.01, status="completed")
    start_service(ingestion_settings)

    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic, [message(event)])

    landed = wait_until(lambda: row(engine, event["transaction_id"]), message="the row")
    assert landed.sender_id == ALICE.user_id
    assert landed.receiver_id == BOB.user_id
    assert landed.amount == Decimal("8000.01")
    assert landed.currency_code == 840
    assert landed.transaction_date == datetime(2025, 7, 7, 1, 42, 5, 123456, tzinfo=UTC)
    assert landed.status == "completed"
    assert landed.is_suspicious is True, "8000.01 is above the threshold of 8000"
    assert (landed.source, landed.import_id, landed.import_line) == ("manual", None, None)


def test_the_generator_is_told_apart_by_its_header(ingestion_settings, start_service, engine):
    event = payment(amount=8000)
    start_service(ingestion_settings)

    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic, [message(event)],
            headers=[("payments-source", b"generator")])

    landed = wait_until(lambda: row(engine, event["transaction_id"]), message="the row")
    assert (landed.source, landed.is_suspicious) == ("generator", False)


def test_a_later_version_replaces_the_row_keeps_created_at_and_moves_modified_at(
    ingestion_settings, start_service, engine
):
    pending = payment(status="pending")
    completed = {**pending, "status": "completed"}
    start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic

    produce(bootstrap, topic, [message(pending)])
    first = wait_until(lambda: row(engine, pending["transaction_id"]), message="the pending row")
    produce(bootstrap, topic, [message(completed)])
    second = wait_until(lambda: (r := row(engine, pending["transaction_id"])) and r.status == "completed" and r,
                        message="the completed row")

    assert second.created_at == first.created_at
    assert second.modified_at > first.modified_at
    assert count(engine) == 1


def test_the_same_message_twice_is_one_row_and_the_second_changes_nothing(ingestion_settings, start_service, engine):
    event = payment()
    start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic

    produce(bootstrap, topic, [message(event)])
    first = wait_until(lambda: row(engine, event["transaction_id"]), message="the row")
    marker = payment()
    produce(bootstrap, topic, [message(event), message(marker)])
    wait_until(lambda: row(engine, marker["transaction_id"]), message="the message after the repeat")

    again = row(engine, event["transaction_id"])
    assert again == first, "a redelivery changes nothing a user can see, modified_at included"
    assert count(engine) == 2


def test_an_import_row_is_resolved_to_ids_and_keeps_its_provenance(ingestion_settings, start_service, engine):
    event = import_row(line=7, currency="eur")
    start_service(ingestion_settings)

    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.imports_topic, [message(event)])

    landed = wait_until(lambda: row(engine, event["transaction_id"]), message="the row")
    assert (landed.sender_id, landed.receiver_id) == (ALICE.user_id, CAROL.user_id)
    assert (landed.amount, landed.currency_code, landed.status) == (Decimal("8500.00"), 978, "completed")
    assert (landed.source, landed.import_id, landed.import_line) == (
        "csv_import", uuid.UUID("6f1c3b7a-1d2e-4f5a-8b9c-0d1e2f3a4b5c"), 7)
    assert landed.is_suspicious is True


def test_a_user_added_after_start_is_found(ingestion_settings, start_service, engine):
    newcomer = uuid.uuid4()
    start_service(ingestion_settings)
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic
    warm_up = payment()
    produce(bootstrap, topic, [message(warm_up)])
    wait_until(lambda: row(engine, warm_up["transaction_id"]), message="the first row")

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (user_id, username, full_name, email) "
                          "VALUES (:id, 'newcomer', 'New Comer', 'new@example.com')"), {"id": newcomer})
    event = payment(receiver_id=str(newcomer))
    produce(bootstrap, topic, [message(event)])

    assert wait_until(lambda: row(engine, event["transaction_id"]), message="the row").receiver_id == newcomer
    assert count(engine, RejectedEvent) == 0


def test_many_events_in_one_batch_keep_the_latest_version_of_each(ingestion_settings, start_service, engine):
    events = [payment(amount=i + 1, status="pending") for i in range(300)]
    finals = [{**e, "status": "completed"} for e in events[::3]]
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
            [message(e) for e in events + finals])

    start_service(ingestion_settings)

    wait_until(lambda: count(engine) == 300, message="300 rows")
    with engine.connect() as conn:
        completed = set(conn.scalars(select(Transaction.transaction_id).where(Transaction.status == "completed")))
    assert completed == {uuid.UUID(e["transaction_id"]) for e in finals}


def test_the_dashboards_totals_follow_what_the_service_writes_within_seconds(ingestion_settings, start_service,
                                                                             engine):
    pending = payment(status="pending", amount=120)
    start_service(ingestion_settings.model_copy(update={"totals_refresh_seconds": 0.5}))
    bootstrap, topic = ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic

    def day_totals():
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT status, transactions FROM daily_totals WHERE day = '2025-07-07' "
                                          "AND currency_code = 840")).all())

    produce(bootstrap, topic, [message(pending)])
    assert wait_until(lambda: day_totals() == {"pending": 1} or None, timeout=15, message="the pending total")
    produce(bootstrap, topic, [message({**pending, "status": "completed"})])
    assert wait_until(lambda: day_totals() == {"completed": 1} or None, timeout=15,
                      message="the payment moved to the completed total")


def test_a_key_other_than_the_transaction_id_is_refused_and_no_key_is_accepted(ingestion_settings, start_service,
                                                                               engine):
    keyed_wrong, unkeyed, same_id_other_case = payment(), payment(), payment()
    start_service(ingestion_settings)

    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic, [
        (b"order-17", json.dumps(keyed_wrong).encode()),
        (None, json.dumps(unkeyed).encode()),
        (same_id_other_case["transaction_id"].upper().encode(), json.dumps(same_id_other_case).encode()),
    ])

    wait_until(lambda: row(engine, unkeyed["transaction_id"]), message="the unkeyed payment")
    wait_until(lambda: row(engine, same_id_other_case["transaction_id"]), message="the payment keyed in capitals")
    refused = wait_until(lambda: refusal(engine, keyed_wrong["transaction_id"]), message="the refusal")
    assert refused[0]["code"] == "key_mismatch" and refused[0]["field"] == "key"
    assert "'order-17' is not its transaction_id" in refused[0]["message"]
    assert row(engine, keyed_wrong["transaction_id"]) is None


def test_the_platform_judges_an_import_row_suspicious_whatever_the_sender_said(ingestion_settings, start_service,
                                                                               engine):
    above, below = import_row(amount="9000.00", is_suspicious=False), import_row(amount="10.00", is_suspicious=True)
    agreeing = import_row(amount="9000.00", is_suspicious=True)
    running = start_service(ingestion_settings)
    topic = ingestion_settings.imports_topic

    produce(ingestion_settings.kafka_bootstrap_servers, topic, [message(above), message(below), message(agreeing)])

    assert wait_until(lambda: row(engine, above["transaction_id"]), message="the row").is_suspicious is True
    assert wait_until(lambda: row(engine, below["transaction_id"]), message="the row").is_suspicious is False
    wait_until(lambda: row(engine, agreeing["transaction_id"]), message="the row")

    def overruled():
        return running.service.metrics.registry.get_sample_value("payments_ingest_suspicious_overruled_total",
                                                                 {"topic": topic})

    assert wait_until(lambda: overruled() == 2, message="the two rows whose file said otherwise, counted")
    with engine.connect() as conn:
        recorded = set(conn.execute(text(
            "SELECT transaction_id::text, amount, said_suspicious, is_suspicious, topic, import_line "
            "FROM overruled_flags")))
    assert recorded == {(above["transaction_id"], Decimal("9000.00"), False, True, topic, above["line_number"]),
                        (below["transaction_id"], Decimal("10.00"), True, False, topic, below["line_number"])}


def refusal(engine, transaction_id):
    with engine.connect() as conn:
        return conn.scalar(select(RejectedEvent.reasons).where(
            RejectedEvent.transaction_id == uuid.UUID(transaction_id)))
