"""The wire format: what the generator and the importer actually send parses with the contract's models."""

import json
import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from csv_importer.marking import mark
from csv_importer.messages import messages
from csv_importer.reading import read_layout
from data_generator.payments import PaymentStream, User
from payments_core.contract import ImportRowEvent, PaymentEvent, parse
from payments_core.db.seed import seed_users
from payments_core.wire import CSV_COLUMNS, ImportRowEncoder
from tests.helpers.csv_files import SAMPLES


def test_the_generators_messages_are_payment_events():
    stream = PaymentStream([User(str(u.user_id), u.username) for u in seed_users()], seed=7)

    for _ in range(2000):
        generated = next(stream)
        event = parse(PaymentEvent, generated.value)
        assert generated.key == str(event.transaction_id).encode()


def test_the_importers_messages_are_import_row_events_with_the_files_fields():
    data = (SAMPLES / "suspicious_duplicated_transactions.csv").read_bytes()
    layout = read_layout(data)
    marked = mark(layout, Decimal(8000))
    import_id = uuid.uuid4()

    sent = list(messages(layout, marked, import_id, "a \"quoted\" name.csv"))

    assert len(sent) == marked.rows_unique == 180
    for key, value in sent:
        event = parse(ImportRowEvent, value)
        assert key == str(event.transaction_id).encode()
        assert event.import_id == import_id and event.source_file == 'a "quoted" name.csv'
        assert event.is_suspicious == (event.amount > 8000)


@given(st.lists(st.text(max_size=20), min_size=len(CSV_COLUMNS), max_size=len(CSV_COLUMNS)), st.text(max_size=40),
       st.integers(1, 2**31 - 1), st.booleans())
def test_the_import_encoder_writes_any_field_as_json_that_reads_back_the_same(values, file_name, line, suspicious):
    import_id = uuid.uuid4()

    written = json.loads(ImportRowEncoder(import_id, file_name).encode(values, "an id", line, suspicious))

    assert [written[name] for name in CSV_COLUMNS] == values
    assert (written["transaction_id"], written["import_id"], written["source_file"], written["line_number"],
            written["is_suspicious"]) == ("an id", str(import_id), file_name, line, suspicious)
