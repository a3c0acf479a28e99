"""Invalid messages: each one is refused with its reason, in the dead-letter topic and in rejected_events, while
every valid message around it lands."""

import json
import uuid

from sqlalchemy import func, select, text

from payments_core.contract import MAX_MESSAGE_BYTES
from payments_core.db.models import RejectedEvent, Transaction
from tests.helpers.events import ALICE, import_row, message, payment
from tests.helpers.kafka import produce, produce_records, read_topic
from tests.helpers.waiting import wait_until

# (what is wrong, the raw message, the field named, words of the reason, the reason's code)
BAD_PAYMENTS = [
    ("not JSON", b"this is not json", "", "not valid JSON", "not_json"),
    ("empty", b"", "", "empty", "empty"),
    ("a JSON array", b"[1, 2, 3]", "", "JSON object, not list", "not_object"),
    ("oversized", json.dumps(payment(note="x" * MAX_MESSAGE_BYTES)).encode(), "", "at most 65536", "too_large"),
    ("wrong type", json.dumps(payment(amount="lots")).encode(), "amount", "a decimal number like 1520.50",
     "decimal_parsing"),
    ("missing field", json.dumps({k: v for k, v in payment().items() if k != "status"}).encode(), "status",
     "Field required", "missing"),
    ("extra field", json.dumps(payment(amout=10)).encode(), "amout", "unknown field", "extra_forbidden"),
    ("unknown user", json.dumps(payment(receiver_id=str(uuid.uuid4()))).encode(), "receiver_id", "no such user",
     "unknown_user"),
    ("same sender and receiver", json.dumps(payment(receiver_id=str(ALICE.user_id))).encode(), "receiver_id",
     "must differ from sender_id", "same_party"),
    ("unknown currency", json.dumps(payment(currency_code=1)).encode(), "currency_code",
     "not an ISO 4217 currency", "unknown_currency"),
    ("no currency (XXX)", json.dumps(payment(currency_code=999)).encode(), "currency_code",
     "not an ISO 4217 currency payments are made in", "unknown_currency"),
    ("gold (XAU)", json.dumps(payment(currency_code=959)).encode(), "currency_code",
     "not an ISO 4217 currency payments are made in", "unknown_currency"),
    ("negative amount", json.dumps(payment(amount=-5)).encode(), "amount", "greater than 0", "greater_than"),
    ("zero amount", json.dumps(payment(amount=0)).encode(), "amount", "greater than 0", "greater_than"),
    ("3 decimals", json.dumps(payment(amount=10.125)).encode(), "amount", "2 decimal places",
     "decimal_max_places"),
    ("NaN", json.dumps(payment()).replace("1520.5", "NaN").encode(), "", "not valid JSON", "not_json"),
    ("bad timestamp", json.dumps(payment(timestamp="07/07/2025")).encode(), "timestamp", "date and time",
     "timestamp_format"),
    ("unknown status", json.dumps(payment(status="refunded")).encode(), "status", "'pending', 'completed'",
     "literal_error"),
    ("SQL-looking text", json.dumps(payment(sender_id="'); DROP TABLE transactions; --")).encode(), "sender_id",
     "a UUID like", "uuid_parsing"),
]


def test_every_kind_of_invalid_payment_is_refused_with_its_reason_and_the_rest_lands(
    ingestion_settings, start_service, engine
):
    s = ingestion_settings
    valid = [payment(amount=i + 1) for i in range(len(BAD_PAYMENTS) + 1)]
    messages = [message(valid[0])]
    for (_, raw, *_), good in zip(BAD_PAYMENTS, valid[1:], strict=True):
        messages += [(key_of(raw), raw), message(good)]
    produce(s.kafka_bootstrap_servers, s.payments_topic, messages)

    start_service(s)

    wait_until(lambda: _count(engine, Transaction) == len(valid), message="every valid payment")
    wait_until(lambda: _count(engine, RejectedEvent) == len(BAD_PAYMENTS), message="a refusal per bad message")
    with engine.connect() as conn:
        refused = {bytes(r.payload): r for r in conn.execute(select(RejectedEvent))}
    for what, raw, field, words, code in BAD_PAYMENTS:
        record = refused[raw[:MAX_MESSAGE_BYTES]]
        reasons = {r["field"]: r for r in record.reasons}
        assert field in reasons, f"{what}: {record.reasons}"
        assert words in reasons[field]["message"], what
        assert reasons[field]["code"] == code, what
        assert (record.topic, record.payload_size) == (s.payments_topic, len(raw)), what
    assert _count(engine, RejectedEvent) == len(BAD_PAYMENTS)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM transactions")) == len(valid), "nothing dropped a table"

    dead = read_topic(s.kafka_bootstrap_servers, s.dlq_topic, len(BAD_PAYMENTS))
    by_value = {m.value() or b"": m for m in dead}
    for what, raw, _, words, _ in BAD_PAYMENTS:
        headers = dict(by_value[raw].headers())
        assert headers["__connect.errors.topic"] == s.payments_topic.encode(), what
        assert int(headers["__connect.errors.offset"]) >= 0
        assert words in headers["__connect.errors.exception.message"].decode(), what
        assert by_value[raw].key() == key_of(raw), "the dead letter keeps the key"


def key_of(raw: bytes) -> bytes:
    """The key a producer gives a message: its transaction_id when it has a readable one (another key would be
    refused for that alone), else a key of its own."""
    try:
        return str(uuid.UUID(json.loads(raw)["transaction_id"])).encode()
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return b"bad"


def test_a_refused_import_row_names_the_unknown_user_and_keeps_its_line(ingestion_settings, start_service, engine):
    s = ingestion_settings
    good = import_row(line=2)
    unknown = import_row(line=3, username_sender="bob_nobody")
    bad_amount = import_row(line=4, amount="12,50")
    produce(s.kafka_bootstrap_servers, s.imports_topic, [message(good), message(unknown), message(bad_amount)])

    start_service(s)

    wait_until(lambda: _count(engine, RejectedEvent) == 2, message="two refusals")
    with engine.connect() as conn:
        refused = {r.import_line: r for r in conn.execute(select(RejectedEvent))}
    assert refused[3].reasons[0]["message"] == "unknown username 'bob_nobody' in username_sender"
    assert refused[3].import_id == uuid.UUID(good["import_id"])
    assert refused[4].reasons[0]["field"] == "amount"
    assert refused[4].transaction_id == uuid.UUID(bad_amount["transaction_id"])
    assert _count(engine, Transaction) == 1


def test_a_row_the_database_refuses_is_refused_alone(ingestion_settings, start_service, engine):
    # A rule only the database knows, as a constraint added after the fact would be.
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE transactions ADD CONSTRAINT no_666 CHECK (amount <> 666)"))
    events = [payment(amount=10), payment(amount=666), payment(amount=30)]
    produce(ingestion_settings.kafka_bootstrap_servers, ingestion_settings.payments_topic,
            [message(e) for e in events])

    start_service(ingestion_settings)

    wait_until(lambda: _count(engine, RejectedEvent) == 1, message="the refusal")
    with engine.connect() as conn:
        amounts = set(conn.scalars(select(Transaction.amount)))
        refusal = conn.execute(select(RejectedEvent)).one()
    assert amounts == {10, 30}
    assert refusal.reasons[0]["code"] == "database"
    assert "no_666" in refusal.reasons[0]["message"]
    assert refusal.transaction_id == uuid.UUID(events[1]["transaction_id"])


def test_a_refused_message_delivered_again_is_recorded_once(ingestion_settings, start_service, engine):
    s = ingestion_settings
    produce(s.kafka_bootstrap_servers, s.payments_topic, [(b"k", b"not json")])
    first = start_service(s)
    wait_until(lambda: _count(engine, RejectedEvent) == 1, message="the refusal")
    first.stop()
    # Forget the committed offset: a new group reads the same message again, as after a crash.
    again = s.model_copy(update={"ingestion_group_id": s.ingestion_group_id + "-again"})
    marker = payment()
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(marker)])

    start_service(again)

    wait_until(lambda: _count(engine, Transaction) == 1, message="the marker")
    assert _count(engine, RejectedEvent) == 1


def _count(engine, model):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def dead_letters(settings):
    """`payments dead-letters` run against the settings' broker and dead-letter topic."""
    from click.testing import CliRunner

    from platform_ops.cli import cli

    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "DLQ_TOPIC": settings.dlq_topic}
    return CliRunner().invoke(cli, ["dead-letters", "--idle", "3"], env=env)


def test_dead_letters_shows_where_a_refused_message_came_from_and_why(ingestion_settings, start_service, engine):
    s = ingestion_settings
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment(amount=-3)), message(payment())])
    start_service(s)
    wait_until(lambda: _count(engine, RejectedEvent) == 1, message="the refusal")

    result = dead_letters(s)

    assert result.exit_code == 0, result.output
    assert f"{s.payments_topic} [" in result.output
    assert "why:     amount: Input should be greater than 0" in result.output
    assert '"amount": -3' in result.output
    assert "1 refused messages" in result.output


def test_dead_letters_shows_a_cut_copy_and_a_header_without_a_value(ingestion_settings, start_service, engine):
    s = ingestion_settings
    one_mb = 1024 * 1024
    produce_records(s.kafka_bootstrap_servers, s.payments_topic,
                    [{"value": b"y" * (one_mb + 1), "headers": [("trace", None)]}])
    start_service(s)
    wait_until(lambda: _count(engine, RejectedEvent) == 1, message="the refusal")

    result = dead_letters(s)

    assert result.exit_code == 0, result.output
    assert f"cut:     value: kept {512 * 1024} of {one_mb + 1} bytes" in result.output
    assert "1 refused messages" in result.output
