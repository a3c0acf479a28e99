"""Property-based tests of the contract parser: whatever bytes arrive, the answer is an event or a ContractError
whose reasons can be stored and read; an accepted event is one the database can hold."""

import json
from datetime import UTC, datetime

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments_core.contract import ContractError, ImportRowEvent, PaymentEvent, parse, to_json
from payments_core.fields import EARLIEST
from tests.helpers.events import PUBLIC_EXAMPLE, example_import_row, storable

MODELS = [PaymentEvent, ImportRowEvent]
VALID = {PaymentEvent: json.loads(PUBLIC_EXAMPLE), ImportRowEvent: example_import_row()}

# Every character Python can hold, lone surrogates and NUL included.
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
numbers = st.one_of(st.integers(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False))
# Numbers as JSON text that Python's own types do not produce: huge exponents, long digit runs.
number_text = st.one_of(
    st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
    st.sampled_from(["1e400", "-1e400", "1e-400", "0.1000000000000000000001", "9" * 400, "NaN", "Infinity"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


def outcome(model, raw):
    """The event, or the ContractError; any other exception fails the property."""
    try:
        return parse(model, raw)
    except ContractError as e:
        return e


def check(model, raw) -> None:
    result = outcome(model, raw)
    if isinstance(result, ContractError):
        assert result.reasons, "a refusal says why"
        dumped = [r.model_dump(mode="json") for r in result.reasons]
        assert storable(dumped), dumped
        json.dumps(dumped).encode("utf-8")  # goes into a Kafka header as it is
        assert len(result.reasons) <= 50
    else:
        # What is accepted can be stored, and reads back the same from the producers' own form.
        assert storable(json.loads(to_json(result))), result
        moment = result.timestamp if model is PaymentEvent else result.transaction_date
        assert EARLIEST <= moment and moment.tzinfo == UTC
        assert parse(model, to_json(result)) == result


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@given(raw=st.binary(max_size=300))
def test_any_bytes_give_an_event_or_reasons(model, raw):
    check(model, raw)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@given(data=st.dictionaries(any_text, json_values, max_size=12))
def test_any_json_object_gives_an_event_or_reasons(model, data):
    check(model, json.dumps(data).encode())
    check(model, json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@given(st.data())
def test_a_valid_event_with_one_field_changed_gives_an_event_or_reasons(model, data):
    event = dict(VALID[model])
    field = data.draw(st.sampled_from([*event, "unknown_field"]))
    value = data.draw(json_values)
    event[field] = value
    check(model, json.dumps(event).encode())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@given(st.data())
def test_any_number_text_in_a_numeric_field_gives_an_event_or_reasons(model, data):
    field = data.draw(st.sampled_from(["amount", "currency_code"] if model is PaymentEvent
                                      else ["amount", "line_number"]))
    text = data.draw(number_text)
    body = json.dumps({**VALID[model], field: "@@"}).replace('"@@"', text)
    check(model, body.encode())


@given(moment=st.datetimes(timezones=st.timezones()), form=st.sampled_from(["iso", "utc-words", "naive"]))
def test_any_timestamp_is_within_the_window_or_refused(moment, form):
    text = {"iso": moment.isoformat(), "naive": moment.replace(tzinfo=None).isoformat(),
            "utc-words": moment.strftime("%Y-%m-%d %H:%M:%S UTC")}[form]
    check(PaymentEvent, json.dumps({**VALID[PaymentEvent], "timestamp": text}).encode())


@pytest.fixture(scope="module")
def jsonb(postgres_server):
    connection = psycopg2.connect(postgres_server)
    connection.autocommit = True
    yield connection.cursor()
    connection.close()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(any_text, json_values, max_size=8))
def test_every_refusal_is_stored_by_postgresql_as_jsonb(jsonb, data):
    result = outcome(PaymentEvent, json.dumps(data).encode())
    if isinstance(result, ContractError):
        reasons = json.dumps([r.model_dump(mode="json") for r in result.reasons])
        jsonb.execute("SELECT %s::jsonb, %s::text", (reasons, str(result)))


def test_the_window_starts_in_2000():
    assert EARLIEST == datetime(2000, 1, 1, tzinfo=UTC)
