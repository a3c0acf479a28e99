import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import jsonschema
import pytest

from payments_core.contract import MAX_MESSAGE_BYTES, ContractError, ImportRowEvent, PaymentEvent, parse, to_json
from payments_core.schemas import TOPIC_MODELS, render, schema_path
from tests.helpers.events import PUBLIC_EXAMPLE, example_import_row, storable

# The format already in public use, exactly as producers send it today.

def payment(**changes) -> bytes:
    data = json.loads(PUBLIC_EXAMPLE)
    for name, value in changes.items():
        if value is ...:
            del data[name]
        else:
            data[name] = value
    return json.dumps(data).encode()


def reasons(model, raw) -> dict[str, str]:
    with pytest.raises(ContractError) as caught:
        parse(model, raw)
    return {r.field: r.message for r in caught.value.reasons}


def test_the_public_format_is_accepted_with_exactly_its_values():
    event = parse(PaymentEvent, PUBLIC_EXAMPLE)

    assert event.transaction_id == UUID("3f2b8c1e-9d4a-4c55-8a31-2b7e5f0c9d11")
    assert event.amount == Decimal("1520.50")
    assert event.currency_code == 840
    assert event.timestamp == datetime(2025, 7, 7, 1, 42, 5, 123456, tzinfo=UTC)
    assert event.status == "completed"


@pytest.mark.parametrize(
    "literal, expected",
    [("0.1", "0.10"), ("1520.5", "1520.50"), ("9999999999.99", "9999999999.99"), ('"42.10"', "42.10"),
     ("7", "7.00"), ("1e2", "100")],
)
def test_amounts_are_read_exactly(literal, expected):
    raw = PUBLIC_EXAMPLE.replace("1520.5", literal)

    assert parse(PaymentEvent, raw).amount == Decimal(expected)


def test_an_amount_with_more_precision_than_a_float_holds_is_refused_not_rounded():
    # Through a binary float this would become 0.1 and pass.
    raw = PUBLIC_EXAMPLE.replace("1520.5", "0.10000000000000000001")

    assert "amount" in reasons(PaymentEvent, raw)


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"amount": 0}, "amount", "greater than 0"),
        ({"amount": -5}, "amount", "greater than 0"),
        ({"amount": 1.005}, "amount", "2 decimal places"),
        ({"amount": "12,50"}, "amount", "a decimal number like 1520.50"),
        ({"amount": "12_000"}, "amount", "ASCII digits"),
        ({"amount": "١٢٣"}, "amount", "ASCII digits"),
        ({"amount": True}, "amount", "not true or false"),
        ({"amount": 10_000_000_000}, "amount", "10 digits"),
        ({"amount": ...}, "amount", "Field required"),
        ({"currency_code": True}, "currency_code", "not true or false"),
        ({"currency_code": 1000}, "currency_code", "less than or equal to 999"),
        ({"currency_code": "USD"}, "currency_code", "ISO 4217 numeric code like 840"),
        ({"timestamp": 1720000000}, "timestamp", "RFC 3339 date and time as text"),
        ({"timestamp": "2025-07-07T01:42:05.1234567Z"}, "timestamp", "at most 6 decimals of a second"),
        ({"timestamp": "2025-07-07T01"}, "timestamp", "date and time like"),
        ({"timestamp": "2025-W28-1T01:42:05Z"}, "timestamp", "date and time like"),
        ({"timestamp": "2025-07-07"}, "timestamp", "date and time"),
        ({"timestamp": "yesterday"}, "timestamp", "date and time"),
        ({"timestamp": "2025-02-30T10:00:00Z"}, "timestamp", "date and time"),
        ({"status": "done"}, "status", "'pending', 'completed' or 'failed'"),
        ({"transaction_id": "not-a-uuid"}, "transaction_id", "a UUID like"),
        ({"transaction_id": "{3f2b8c1e-9d4a-4c55-8a31-2b7e5f0c9d11}"}, "transaction_id", "a UUID like"),
        ({"transaction_id": 42}, "transaction_id", "UUID"),
        ({"receiver_id": "a1ff384b-69c3-4a2f-b79a-11b7e3300927"}, "receiver_id", "must differ from sender_id"),
        ({"amout": 10}, "amout", "unknown field"),
        ({"sender_id": "'; DROP TABLE transactions; --"}, "sender_id", "a UUID like"),
    ],
)
def test_each_kind_of_bad_field_is_refused_with_a_reason_naming_it(changes, field, words):
    found = reasons(PaymentEvent, payment(**changes))

    assert field in found
    assert words in found[field]


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"not json", "not valid JSON"),
        (b'{"amount": NaN}', "not valid JSON"),
        (b'{"amount": Infinity}', "not valid JSON"),
        (b"[1, 2]", "JSON object, not list"),
        (b'"text"', "JSON object, not str"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"x": "' + b"a" * MAX_MESSAGE_BYTES + b'"}', "at most 65536"),
    ],
)
def test_a_message_that_is_not_a_json_object_is_refused_as_a_whole(raw, words):
    found = reasons(PaymentEvent, raw)

    assert list(found) == [""]
    assert words in found[""]


def test_a_timestamp_without_zone_is_utc_and_an_offset_keeps_the_instant():
    naive = parse(PaymentEvent, payment(timestamp="2025-07-07T01:42:05"))
    offset = parse(PaymentEvent, payment(timestamp="2025-07-07T03:42:05+02:00"))

    assert naive.timestamp == datetime(2025, 7, 7, 1, 42, 5, tzinfo=UTC)
    assert offset.timestamp == datetime(2025, 7, 7, 1, 42, 5, tzinfo=timezone(timedelta(0)))


def test_status_is_forgiven_its_case_and_spaces():
    assert parse(PaymentEvent, payment(status=" Completed ")).status == "completed"


def test_json_out_writes_the_amount_as_an_exact_number_and_reads_back_equal():
    event = parse(PaymentEvent, payment(amount="0.10"))

    text = to_json(event)

    assert json.loads(text, parse_float=Decimal)["amount"] == Decimal("0.10")
    assert b'"amount":0.10' in text
    assert parse(PaymentEvent, text) == event


@pytest.mark.parametrize("date", ["2025-07-07 01:42:05 UTC", "2025-07-07T01:42:05Z", "2025-07-07T01:42:05+00:00",
                                  "2025-07-07 01:42:05"])
def test_an_import_row_understands_both_date_formats(date):
    event = parse(ImportRowEvent, json.dumps(example_import_row(transaction_date=date)))

    assert event.transaction_date == datetime(2025, 7, 7, 1, 42, 5, tzinfo=UTC)


def test_an_import_row_normalises_the_currency_code_and_keeps_its_provenance():
    event = parse(ImportRowEvent, json.dumps(example_import_row(currency=" usd ")))

    assert event.currency == "USD"
    assert (event.source_file, event.line_number, event.is_suspicious) == ("regular_transactions.csv", 2, True)


def test_an_import_row_from_and_to_the_same_user_is_refused():
    found = reasons(ImportRowEvent, json.dumps(example_import_row(username_receiver="pthompson")))

    assert found == {"username_receiver": "username_receiver must differ from username_sender"}


@pytest.mark.parametrize("topic", list(TOPIC_MODELS))
def test_the_committed_json_schema_is_the_models_schema(topic):
    assert schema_path(topic).read_text() == render(topic), "run `payments schemas` and commit the result"


def test_the_committed_schemas_accept_the_documented_examples():
    payments = json.loads(schema_path("payments-events").read_text())
    imports = json.loads(schema_path("import-payments-events").read_text())

    jsonschema.validate(json.loads(PUBLIC_EXAMPLE), payments)
    jsonschema.validate(example_import_row(), imports)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(payment(amout=10)), payments)


def test_json_out_escapes_text_and_an_import_row_reads_back_equal():
    event = parse(ImportRowEvent, json.dumps(example_import_row(source_file='März "final" \\ report.csv')))

    assert parse(ImportRowEvent, to_json(event)) == event


# --- messages that once stopped the ingestion service, kept as named regressions ------------------------------

@pytest.mark.parametrize(("what", "raw", "field", "code"), [
    ("NUL in a value", payment(status="completed\u0000"), "status", "bad_character"),
    ("NUL in an unknown field's name", payment(**{"no\u0000te": 1}), "no\\u0000te", "bad_character"),
    ("a lone surrogate in a value", payment(status="\ud800"), "status", "bad_character"),
    ("a lone surrogate in a name", payment(**{"\udfff": "x"}), "\\udfff", "bad_character"),
    ("a zone pushing past year 9999", payment(timestamp="9999-12-31T23:30:00-05:00"), "timestamp",
     "timestamp_out_of_range"),
    ("a zone pushing before year 1", payment(timestamp="0001-01-01T00:30:00+05:00"), "timestamp",
     "timestamp_out_of_range"),
    ("year 1", payment(timestamp="0001-01-01T00:00:00Z"), "timestamp", "timestamp_out_of_range"),
    ("year 9999", payment(timestamp="9999-12-31T00:00:00Z"), "timestamp", "timestamp_out_of_range"),
    ("before 2000", payment(timestamp="1999-12-31T23:59:59Z"), "timestamp", "timestamp_out_of_range"),
    ("a nil transaction_id", payment(transaction_id="00000000-0000-0000-0000-000000000000"), "transaction_id",
     "nil_uuid"),
    ("a nil sender_id", payment(sender_id="00000000-0000-0000-0000-000000000000"), "sender_id", "nil_uuid"),
    ("a key given twice", PUBLIC_EXAMPLE.replace('"status": "completed"', '"status": "completed", '
                                                 '"status": "failed"').encode(), "status", "duplicate_key"),
    ("nesting 20,000 deep", b"[" * 20_000, "", "not_json"),
    ("an exponent that takes hours to expand", PUBLIC_EXAMPLE.replace("840", "1e999999999").encode(),
     "currency_code", "int_out_of_range"),
    ("a tiny exponent that takes hours too", PUBLIC_EXAMPLE.replace("840", "12e-999999999").encode(),
     "currency_code", "int_out_of_range"),
    ("an integer of 5,000 digits", PUBLIC_EXAMPLE.replace("840", "9" * 5000).encode(), "", "not_json"),
])
def test_a_message_that_once_stopped_the_service_is_refused_naming_the_field(what, raw, field, code):
    with pytest.raises(ContractError) as caught:
        parse(PaymentEvent, raw)

    found = {r.field: r.code for r in caught.value.reasons}
    assert found.get(field) == code, f"{what}: {caught.value.reasons}"
    assert storable([r.model_dump(mode="json") for r in caught.value.reasons]), what


def test_a_line_number_beyond_the_database_integer_is_refused():
    with pytest.raises(ContractError) as caught:
        parse(ImportRowEvent, json.dumps(example_import_row(line_number=2**31)))

    assert [r.field for r in caught.value.reasons] == ["line_number"]


def test_a_message_with_a_thousand_problems_keeps_fifty_reasons_and_says_how_many_more():
    with pytest.raises(ContractError) as caught:
        parse(PaymentEvent, payment(**{f"extra_{i}": i for i in range(1000)}))

    reasons = caught.value.reasons
    assert len(reasons) == 50
    assert reasons[-1].message == "and 951 more problems of this message"


def test_a_long_input_is_cut_in_the_reason_but_the_field_is_still_named():
    with pytest.raises(ContractError) as caught:
        parse(PaymentEvent, payment(status="x" * 10_000))

    (reason,) = caught.value.reasons
    assert reason.field == "status"
    assert len(reason.input) == 300 and reason.input.endswith("…")


def test_a_timestamp_a_little_ahead_of_now_is_accepted_and_two_days_ahead_is_not():
    soon = datetime.now(UTC) + timedelta(hours=2)
    later = datetime.now(UTC) + timedelta(days=2)

    assert parse(PaymentEvent, payment(timestamp=soon.isoformat())).timestamp == soon
    assert "timestamp" in reasons(PaymentEvent, payment(timestamp=later.isoformat()))
