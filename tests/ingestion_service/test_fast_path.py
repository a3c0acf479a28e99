"""The fast path gives exactly what the contract gives: on any message, the same event to the last digit, or None
(and then the contract decides). Differential property tests over valid events in every form the contract takes,
near-valid ones, poison and any bytes; the producers' own messages all take it; and on a recorded mix of 10,000
messages the rows, refusals, superseded versions and dead letters are byte-equal with and without it."""

import json
import random
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from data_generator.payments import PaymentStream, User
from ingestion_service import fast_path
from ingestion_service.dead_letter import dead_letter_headers
from ingestion_service.lookups import Lookups
from ingestion_service.parse import Parser, by_contract
from ingestion_service.records import Event, Source
from ingestion_service.resolve import Resolver
from ingestion_service.sink import PostgresSink
from payments_core.contract import ImportRowEvent, PaymentEvent
from payments_core.db.connect import make_engine
from payments_core.settings import TopicSettings
from payments_core.wire import CSV_COLUMNS, SOURCE_GENERATOR, SOURCE_HEADER, ImportRowEncoder
from tests.helpers.events import PUBLIC_EXAMPLE, USERS, example_import_row

TOPICS = TopicSettings(_env_file=None)
FAST = {PaymentEvent: fast_path.payment, ImportRowEvent: fast_path.import_row}
VALID = {PaymentEvent: json.loads(PUBLIC_EXAMPLE), ImportRowEvent: example_import_row()}
FIELDS = [name for name in Event.__slots__ if name != "source"]

any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)


def exact(event: Event) -> list[tuple[str, str]]:
    """Every field as COPY writes it, with its type: Decimal('1.5') and Decimal('1.50') differ here."""
    return [(type(getattr(event, name)).__name__, str(getattr(event, name))) for name in FIELDS]


def agree(model, raw: bytes) -> Event | None:
    """The fast path's event (checked equal to the contract's), or None."""
    source = Source("topic", 0, 0, None, raw, None, [])
    fast = FAST[model](source)
    if fast is not None:
        slow = by_contract(model, source)
        assert isinstance(slow, Event), (raw, slow.reasons)
        assert exact(fast) == exact(slow), raw
    return fast


def body(fields: dict[str, str], separator: str = ",") -> bytes:
    """A JSON object from already-encoded values: numbers can be written as any text."""
    return ("{" + separator.join(f"{json.dumps(k)}:{v}" for k, v in fields.items()) + "}").encode()


# --- valid events in every form the contract takes ------------------------------------------------------------

def spaced(draw, text: str) -> str:
    return draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " "]))


@st.composite
def an_id(draw, canonical: bool) -> str:
    text = str(draw(st.uuids()))
    return text if canonical else spaced(draw, draw(st.sampled_from([text, text.upper()])))


@st.composite
def an_amount(draw, canonical: bool) -> str:
    value = draw(st.decimals(min_value="0.01", max_value="9999999999.99", places=2))
    digits = draw(st.sampled_from([f"{value:f}", f"{value.normalize():f}", f"{value:f}00"])) if not canonical \
        else f"{value:f}"
    quoted = draw(st.booleans())
    return json.dumps(spaced(draw, digits) if not canonical else digits) if quoted else digits


@st.composite
def a_moment(draw, canonical: bool) -> str:
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime.now() - timedelta(days=1),
                               timezones=st.sampled_from([UTC, None])))
    forms = [moment.isoformat(), moment.isoformat(timespec="milliseconds"), moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
             moment.isoformat(sep=" "), moment.isoformat().replace("+00:00", "Z")]
    return json.dumps(draw(st.sampled_from(forms)) if canonical else spaced(draw, draw(st.sampled_from(forms))))


@st.composite
def a_status(draw, canonical: bool) -> str:
    status = draw(st.sampled_from(["pending", "completed", "failed"]))
    return json.dumps(status if canonical else spaced(draw, draw(st.sampled_from([status, status.upper(),
                                                                                  status.title()]))))


@st.composite
def a_payment(draw, canonical: bool) -> bytes:
    sender, receiver = draw(st.lists(an_id(canonical), min_size=2, max_size=2, unique_by=str.strip))
    code = draw(st.integers(1, 999))
    return body({
        "transaction_id": json.dumps(draw(an_id(canonical))),
        "sender_id": json.dumps(sender), "receiver_id": json.dumps(receiver),
        "amount": draw(an_amount(canonical)),
        "currency_code": str(code) if canonical or draw(st.booleans()) else json.dumps(spaced(draw, str(code))),
        "timestamp": draw(a_moment(canonical)),
        "status": draw(a_status(canonical)),
    }, draw(st.sampled_from([",", ", ", ",\n "])))


@st.composite
def an_import_row(draw, canonical: bool) -> bytes:
    names = st.text(st.characters(codec="ascii", exclude_characters='"\\\x7f', exclude_categories=["Cc"]),
                    min_size=1, max_size=20).filter(lambda n: n.strip(" ") == n)
    sender, receiver = draw(st.lists(names, min_size=2, max_size=2, unique=True))
    currency = draw(st.sampled_from(["USD", "EUR", "JPY", "XYZ"]))
    return body({
        "username_sender": json.dumps(sender if canonical else spaced(draw, sender)),
        "username_receiver": json.dumps(receiver),
        "amount": draw(an_amount(canonical)),
        "currency": json.dumps(currency if canonical else spaced(draw, draw(st.sampled_from([currency,
                                                                                              currency.lower()])))),
        "transaction_date": draw(a_moment(canonical)),
        "status": draw(a_status(canonical)),
        "transaction_id": json.dumps(draw(an_id(canonical))),
        "import_id": json.dumps(draw(an_id(canonical))),
        "source_file": json.dumps(draw(names)),
        "line_number": str(draw(st.integers(1, 2**31 - 1))),
        "is_suspicious": draw(st.sampled_from(["true", "false"])),
    })


MESSAGES = {PaymentEvent: a_payment, ImportRowEvent: an_import_row}


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(st.data())
def test_a_valid_event_in_the_producers_form_takes_the_fast_path_to_the_contracts_event(model, data):
    raw = data.draw(MESSAGES[model](canonical=True))

    assert agree(model, raw) is not None, raw


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(st.data())
def test_a_valid_event_in_any_form_gets_the_contracts_event_from_either_path(model, data):
    raw = data.draw(MESSAGES[model](canonical=False))

    agree(model, raw)
    assert isinstance(by_contract(model, Source("topic", 0, 0, None, raw, None, [])), Event), raw


# --- near-valid, poison and anything ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(st.data())
def test_a_valid_event_with_one_field_changed_gets_the_contracts_answer(model, data):
    event = dict(VALID[model])
    field = data.draw(st.sampled_from([*event, "unknown_field"]))
    event[field] = data.draw(json_values)

    agree(model, json.dumps(event).encode())
    agree(model, json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(st.data())
def test_a_valid_message_with_one_byte_changed_gets_the_contracts_answer(model, data):
    raw = bytearray(data.draw(MESSAGES[model](canonical=True)))
    at = data.draw(st.integers(0, len(raw) - 1))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    byte = data.draw(st.integers(0, 255))
    if edit == "replace":
        raw[at] = byte
    elif edit == "insert":
        raw.insert(at, byte)
    else:
        del raw[at]

    agree(model, bytes(raw))


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(st.data())
def test_a_field_given_twice_is_left_to_the_contract_which_refuses_it(model, data):
    event = json.loads(data.draw(MESSAGES[model](canonical=True)))
    field = data.draw(st.sampled_from(list(event)))
    again = data.draw(st.sampled_from([json.dumps(event[field]), "1", "true", "null"]))
    raw = body({k: json.dumps(v) for k, v in event.items()})[:-1] + f',"{field}":{again}}}'.encode()

    assert agree(model, raw) is None
    assert not isinstance(by_contract(model, Source("topic", 0, 0, None, raw, None, [])), Event)


TIME_FIELD = {PaymentEvent: "timestamp", ImportRowEvent: "transaction_date"}
TOMORROW = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # naive, as st.datetimes takes it
# Times at the ends of the contract's range (2000-01-01 to a day from now), in each form the fast path reads.
at_the_ends = st.builds(
    lambda moment, form: moment.strftime(form),
    st.datetimes(min_value=datetime(1999, 12, 31, 23), max_value=datetime(2000, 1, 1, 1))
    | st.datetimes(min_value=TOMORROW - timedelta(minutes=5), max_value=TOMORROW + timedelta(minutes=5)),
    st.sampled_from(["%Y-%m-%dT%H:%M:%S.%f+00:00", "%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%dT%H:%M:%SZ"]),
)


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(moment=st.from_regex(fast_path._UTC_TIME, fullmatch=True) | at_the_ends)
def test_any_time_in_the_producers_form_gets_the_contracts_answer(model, moment):
    # Any day the pattern allows (02-30, year 0000, 9999) and the range's ends: the fast path's time, or None.
    agree(model, json.dumps({**VALID[model], TIME_FIELD[model]: moment}).encode())


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
@given(raw=st.binary(max_size=400))
def test_any_bytes_get_the_contracts_answer(model, raw):
    agree(model, raw)


POISON = [
    json.dumps({**VALID[PaymentEvent], "status": "pending\u0000"}),
    json.dumps({**VALID[PaymentEvent], "status": "pending\x7f"}),
    json.dumps({**VALID[PaymentEvent], "transaction_id": str(uuid.UUID(int=0))}),
    json.dumps({**VALID[PaymentEvent], "timestamp": "9999-12-31T23:59:00-05:00"}),
    json.dumps({**VALID[PaymentEvent], "timestamp": "2025-07-07T01:42:05.1234567Z"}),
    json.dumps({**VALID[PaymentEvent], "timestamp": 1751852525}),
    json.dumps({**VALID[PaymentEvent], "amount": True}),
    json.dumps({**VALID[PaymentEvent], "amount": 0}),
    json.dumps({**VALID[PaymentEvent], "amount": 10**10}),
    json.dumps({**VALID[PaymentEvent], "amount": 1.005}),
    json.dumps({**VALID[PaymentEvent], "currency_code": 0}),
    json.dumps({**VALID[PaymentEvent], "currency_code": 840.5}),
    json.dumps({**VALID[PaymentEvent], "receiver_id": VALID[PaymentEvent]["sender_id"]}),
    json.dumps({**VALID[PaymentEvent], "receiver_id": VALID[PaymentEvent]["sender_id"].upper()}),
    json.dumps({k: v for k, v in VALID[PaymentEvent].items() if k != "status"}),
    json.dumps({**VALID[PaymentEvent], "note": "x"}),
    "\ufeff" + PUBLIC_EXAMPLE,
    PUBLIC_EXAMPLE.replace("1520.5", "1e3"),
    PUBLIC_EXAMPLE.replace("1520.5", "-1520.5"),
    PUBLIC_EXAMPLE.replace('"completed"', '"compl\\u0065ted"'),
    "[" + PUBLIC_EXAMPLE + "]",
    "",
    " ",
    "x" * (64 * 1024 + 1),
]


@pytest.mark.parametrize("raw", POISON, ids=range(len(POISON)))
def test_poison_and_the_forgiven_forms_are_left_to_the_contract(raw):
    assert agree(PaymentEvent, raw.encode("utf-8", "surrogatepass")) is None


def test_a_long_text_is_checked_each_time_and_never_kept():
    # Spaces around a username are forgiven, so a valid row can carry one nearly as long as a message; the checks
    # the fast path remembers (4,096 usernames) would otherwise hold 256 MB of them.
    rows = [json.dumps({**VALID[ImportRowEvent], "username_sender": " " * 60_000 + f"someone{i}"}).encode()
            for i in range(50)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        events = [agree(ImportRowEvent, raw) for raw in rows]
        del events
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert kept < 500_000, f"{kept:,} bytes kept after 50 rows of 60 KB"


# --- the producers' own messages --------------------------------------------------------------------------------

ALICE_ROW = {"username_sender": USERS[0].username, "username_receiver": USERS[1].username, "amount": "8500.00",
             "currency": "EUR", "transaction_date": "2025-07-07 01:42:05 UTC", "status": "completed"}


def test_every_message_the_generator_and_the_importer_send_takes_the_fast_path():
    stream = PaymentStream([User(str(u.user_id), u.username) for u in USERS], seed=5)
    generated = [next(stream) for _ in range(3000)]
    encoder = ImportRowEncoder(uuid.uuid4(), "regular_transactions.csv")
    rows = [encoder.encode([ALICE_ROW[c] for c in CSV_COLUMNS], str(uuid.uuid4()), line, line % 2 == 0).encode()
            for line in range(2, 500)]

    assert all(agree(PaymentEvent, g.value) is not None for g in generated)
    assert all(agree(ImportRowEvent, row) is not None for row in rows)



# --- a recorded mix, stage by stage -----------------------------------------------------------------------------

def recorded_mix(n: int = 10_000) -> list[Source]:
    """Realistic, duplicate, stale, hand-typed, unknown and invalid messages on both topics, in one order."""
    rng = random.Random(26)
    users = [User(str(u.user_id), u.username) for u in USERS]
    stream = PaymentStream(users, seed=26, invalid_ratio=0.05, stuck_ratio=0.1)
    encoder = ImportRowEncoder(uuid.UUID(int=rng.getrandbits(128)), "mixed.csv")
    mix: list[tuple[str, bytes | None, bytes, list]] = []
    while len(mix) < n:
        roll = rng.random()
        if roll < 0.55:
            g = next(stream)
            mix.append((TOPICS.payments_topic, g.key, g.value, [(SOURCE_HEADER, SOURCE_GENERATOR)]))
        elif roll < 0.65 and mix:  # the same message again
            mix.append(rng.choice(mix))
        elif roll < 0.72:  # a stale version: pending, an hour before a payment already sent
            topic, key, value, headers = rng.choice(mix)
            if topic == TOPICS.payments_topic and value.startswith(b'{"transaction_id"'):
                event = json.loads(value)
                try:
                    moment = datetime.fromisoformat(event["timestamp"]) - timedelta(hours=1)
                except (KeyError, TypeError, ValueError):  # one of the generator's invalid messages
                    continue
                event.update(status="pending", timestamp=moment.isoformat())
                mix.append((topic, key, json.dumps(event).encode(), headers))
        elif roll < 0.80:  # typed by hand: spaces, capitals, an amount as text, an unknown user or currency
            event = json.loads(PUBLIC_EXAMPLE)
            event.update(transaction_id=str(uuid.UUID(int=rng.getrandbits(128))),
                         sender_id=rng.choice([users[0].user_id.upper(), f" {users[2].user_id}", str(uuid.uuid4())]),
                         amount=rng.choice([12.5, "12.50", " 7 ", 99999.99]),
                         currency_code=rng.choice([840, "978", 999]),
                         status=rng.choice(["Completed", "pending", "FAILED"]))
            mix.append((TOPICS.payments_topic, None, json.dumps(event).encode(), []))
        else:
            sender, receiver = rng.sample(users, 2)
            values = {"username_sender": rng.choice([sender.username, "nobody"]),
                      "username_receiver": receiver.username,
                      "amount": rng.choice(["8500.00", "12.5", "0.01", "-3", "9000"]),
                      "currency": rng.choice(["EUR", "usd", "JPY", "XXX"]),
                      "transaction_date": rng.choice(["2025-07-07 01:42:05 UTC", "2025-07-07T01:42:05Z", "07/07/2025"]),
                      "status": rng.choice(["completed", "Pending", "lost"])}
            line = len(mix) + 2
            transaction_id = str(uuid.UUID(int=rng.getrandbits(128)))
            value = encoder.encode([values[c] for c in CSV_COLUMNS], transaction_id, line, rng.random() < 0.5)
            mix.append((TOPICS.imports_topic, transaction_id.encode(), value.encode(), []))
    return [Source(topic, 0, offset, key, value, None, headers)
            for offset, (topic, key, value, headers) in enumerate(mix[:n])]


def stages(sources: list[Source], database_url: str, parser: Parser) -> list:
    """What each stage gives, batch by batch, in bytes: events, rows, refusals, superseded versions, dead letters."""
    lookups = Lookups(database_url)
    resolver, sink = Resolver(Decimal("8000"), lookups), PostgresSink(database_url)
    seen = []
    try:
        for start in range(0, len(sources), 500):
            outcomes = [parser.parse(s) for s in sources[start:start + 500]]
            events = [o for o in outcomes if isinstance(o, Event)]
            refusals = [o for o in outcomes if not isinstance(o, Event)]
            outcome = sink.write(resolver.resolve(events), refusals)
            seen.append((
                [row.copy_line() for row, _ in outcome.written],
                [(r.source.offset, r.reasons_json(), r.transaction_id, r.import_id, r.import_line,
                  dead_letter_headers(r)) for r in outcome.refusals],
                [(s.source.offset, s.reason, s.stored_status, s.differing_fields) for s in outcome.superseded],
                dict(outcome.collapsed), dict(outcome.overruled),
            ))
    finally:
        sink.close()
        lookups.close()
    return seen


def tables(database_url: str) -> list:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [list(conn.execute(text(query))) for query in (
                "SELECT transaction_id, sender_id, receiver_id, amount, currency_code, transaction_date, status, "
                "is_suspicious, source, import_id, import_line FROM transactions ORDER BY transaction_id",
                "SELECT topic, \"offset\", reasons, transaction_id, import_id, import_line FROM rejected_events "
                "ORDER BY \"offset\"",
                "SELECT transaction_id, reason, \"offset\", differing_fields FROM superseded_events "
                "ORDER BY \"offset\"",
                "SELECT transaction_id, \"offset\" FROM overruled_flags ORDER BY \"offset\"",
            )]
    finally:
        engine.dispose()


def test_a_recorded_mix_gives_byte_equal_rows_refusals_and_dead_letters_on_either_path(databases, template_database,
                                                                                      database_url):
    sources = recorded_mix()
    contract_only = Parser(TOPICS)
    contract_only.fast = {topic: lambda source: None for topic in contract_only.fast}
    fast = Parser(TOPICS)
    took_fast = sum(fast.fast[s.topic](s) is not None for s in sources)
    other_url = databases.url(databases.create(template=template_database))

    with_fast = stages(sources, database_url, fast)
    without = stages(sources, other_url, contract_only)

    assert with_fast == without
    assert tables(database_url) == tables(other_url)
    written = sum(len(batch[0]) for batch in with_fast)
    refused = sum(len(batch[1]) for batch in with_fast)
    superseded = sum(len(batch[2]) for batch in with_fast)
    assert written > 3000 and refused > 500 and superseded > 100, (written, refused, superseded)
    assert took_fast > len(sources) / 2, "most of the mix is what producers send"
