"""A row is its payment, not its position: files saved again, fixed or updated change the same transactions."""

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from csv_importer.identity import payment_key
from csv_importer.importing import Done, SeenBefore
from csv_importer.marking import mark
from csv_importer.reading import REQUIRED, read_layout
from payments_core.db.models import ImportFlag, Transaction
from tests.helpers.csv_files import RESAVED, Saving, sample_rows
from tests.helpers.importer import import_and_wait


def ids_of(data: bytes) -> list[bytes]:
    marked = mark(read_layout(data), Decimal(8000))
    return [marked.id_at(n) for n in range(marked.rows_unique)]


@pytest.mark.parametrize("saving", RESAVED.values(), ids=RESAVED.keys())
def test_a_file_saved_again_in_another_way_gives_every_row_the_same_transaction_id(saving):
    rows = sample_rows(300)

    assert sorted(ids_of(saving.write(rows))) == sorted(ids_of(Saving().write(rows)))


def test_a_changed_status_keeps_the_id_and_other_fields_make_another_payment():
    rows = sample_rows(3)
    later = [row[:5] + ["completed"] for row in rows]
    other_amount = [[*rows[0][:2], "1.01", *rows[0][3:]]]

    assert ids_of(Saving().write(later)) == ids_of(Saving().write(rows))
    assert ids_of(Saving().write(other_amount))[0] != ids_of(Saving().write(rows))[0]


def test_identical_payments_with_two_statuses_in_one_file_are_two_occurrences():
    row = sample_rows(1)[0]
    rows = [row[:5] + ["pending"], row[:5] + ["completed"], row[:5] + ["completed"]]

    marked = mark(read_layout(Saving().write(rows)), Decimal(8000))

    assert (marked.rows_unique, marked.rows_duplicate) == (2, 1), "the third repeats the second"
    alone = mark(read_layout(Saving().write(rows[:1])), Decimal(8000))
    assert marked.id_at(0) == alone.id_at(0), "the first occurrence keeps the id it has in a file of its own"


def test_a_re_saved_file_updates_the_same_transactions_and_the_earlier_import_keeps_its_count(
    importer, importer_ingestion, engine
):
    rows = sample_rows(300)
    first, first_status = import_and_wait(importer, Saving().write(rows), "payments.csv")

    upload = importer.upload(RESAVED["all of them"].write(rows), "payments (1).csv")

    assert "/imports/again/" in upload.headers["Location"], "recognised by its content, not its bytes"
    question = importer.get(upload.headers["Location"]).text
    assert "holds the same rows as" in question and first in question and "saved\n          differently" in question
    second, second_status = import_and_wait(importer, RESAVED["all of them"].write(rows), "payments (1).csv",
                                            rows="all")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Transaction)) == 300
    assert (first_status["in_database"], second_status["in_database"]) == (300, 300)
    assert importer.get(first + "/status").json["in_database"] == 300, "the later import rewrote nothing of it"
    assert importer.get(first + "/status").json["complete"]


def test_after_a_row_is_fixed_only_the_new_row_can_be_imported(importer, importer_ingestion, engine):
    rows = sample_rows(300)
    broken = [list(row) for row in rows]
    broken[41][3] = "QQQ"  # no such currency: refused by the ingestion service
    _, status = import_and_wait(importer, Saving().write(broken), "payments.csv")
    assert (status["in_database"], status["rejected"]) == (299, 1)

    upload = importer.upload(Saving().write(rows), "payments-fixed.csv")
    question = importer.get(upload.headers["Location"]).text

    assert "299 of 300 rows of this file are in the\n    database already" in question
    assert "Import only the\n      1 new rows" in question
    page, status = import_and_wait(importer, Saving().write(rows), "payments-fixed.csv", rows="new")
    assert (status["published"], status["in_database"]) == (1, 1)
    assert 'id="rows-already-imported">299<' in importer.get(page).text
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Transaction)) == 300


def test_a_later_file_with_a_new_status_updates_the_same_payments(importer, importer_ingestion, engine):
    rows = sample_rows(20)
    import_and_wait(importer, Saving().write([row[:5] + ["pending"] for row in rows]), "morning.csv")

    import_and_wait(importer, Saving().write([row[:5] + ["completed"] for row in rows]), "evening.csv", rows="all")

    with engine.connect() as conn:
        statuses = conn.execute(select(Transaction.status, func.count()).group_by(Transaction.status)).all()
    assert statuses == [("completed", 20)]


def test_importing_the_morning_file_again_never_undoes_what_the_evening_file_stored(importer, importer_ingestion,
                                                                                     engine):
    """A re-import of an older file: its rows are older than what is stored, so they are left as they were, counted
    as such on the import's page, and the import is still complete."""
    rows = sample_rows(20)
    morning = Saving().write([row[:5] + ["pending"] for row in rows])
    import_and_wait(importer, morning, "morning.csv")
    import_and_wait(importer, Saving().write([row[:5] + ["completed"] for row in rows]), "evening.csv", rows="all")

    location, final = import_and_wait(importer, morning, "morning (1).csv", rows="all")

    with engine.connect() as conn:
        statuses = conn.execute(select(Transaction.status, func.count()).group_by(Transaction.status)).all()
    assert statuses == [("completed", 20)]
    assert (final["published"], final["in_database"], final["older"], final["complete"]) == (20, 0, 20, True)
    assert 'id="older">20</b> older than what is stored' in importer.get(location).text


def test_two_uploads_of_the_same_content_at_once_one_proceeds_and_the_other_is_asked(importer):
    rows = sample_rows(2000)
    files = [Saving().write(rows), RESAVED["CRLF line ends"].write(rows)]
    run = importer.app.extensions["importer"].run
    outcomes, start = [None, None], threading.Barrier(2)

    def upload(n):
        start.wait()
        outcomes[n] = run(files[n], f"copy{n}.csv")

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sorted(type(o).__name__ for o in outcomes) == ["Done", "SeenBefore"]
    done = next(o for o in outcomes if isinstance(o, Done))
    asked = next(o for o in outcomes if isinstance(o, SeenBefore))
    assert [p.import_id for p in asked.earlier.same_content] == [done.import_id]


def test_a_million_identical_rows_are_one_payment_and_one_flag(importer, engine):
    row = sample_rows(1)[0]
    data = Saving().write([row] * 20_000)

    response = importer.upload(data, "same.csv")

    page = importer.get(response.headers["Location"]).text
    assert 'id="rows-duplicate">19,999<' in page and 'id="rows-published">1<' in page
    assert "(19,999 times)" in page and "… and 19,979 more" in page
    with engine.connect() as conn:
        flags = conn.execute(select(ImportFlag.kind, ImportFlag.line_number, func.cardinality(ImportFlag.repeats))
                             ).all()
        size = conn.scalar(text("SELECT pg_column_size(repeats) FROM import_flags WHERE kind = 'duplicate'"))
    assert flags == [("duplicate", 2, 19_999)]
    assert size < 20_000 * 4 + 100, "four bytes a repeat"


amounts = st.decimals(min_value=0, max_value=10**9, places=None, allow_nan=False, allow_infinity=False)
written = st.sampled_from(["{:f}", "{:.2f}", "{:.6f}", "00{:f}", "{:e}"])


@given(amounts, written, written)
def test_two_writings_of_an_amount_give_one_key_exactly_when_they_are_the_same_number(amount, one, other):
    a, b = one.format(amount), other.format(amount)

    same = Decimal(a) == Decimal(b)
    assert (payment_key("s", "r", a, "USD", "d") == payment_key("s", "r", b, "USD", "d")) == same


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(-14 * 60, 14 * 60))
def test_every_writing_of_an_instant_gives_one_key(moment, minutes):
    utc = moment.replace(microsecond=0, tzinfo=UTC)
    zone = timezone(timedelta(minutes=minutes))
    writings = [utc.strftime("%Y-%m-%d %H:%M:%S UTC"), utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                utc.replace(tzinfo=None).isoformat(" "), utc.astimezone(zone).isoformat()]

    assert len({payment_key("s", "r", "1", "USD", w) for w in writings}) == 1, writings


def test_two_rows_giving_one_transaction_id_to_different_payments_are_both_shown_and_none_is_lost_silently(
    importer, importer_ingestion, engine
):
    rows = sample_rows(4)
    shared = "7c1e0a52-3b9d-4f6e-8a21-5d4c3b2a1f00"
    ids = [shared, "7c1e0a52-3b9d-4f6e-8a21-5d4c3b2a1f01", shared, "7c1e0a52-3b9d-4f6e-8a21-5d4c3b2a1f03"]
    data = ("transaction_id," + ",".join(REQUIRED) + "\n"
            + "".join(f"{own},{','.join(row)}\n" for own, row in zip(ids, rows, strict=True))).encode()

    page, status = import_and_wait(importer, data, "own-ids.csv")

    # Line 2 is published; line 4 gives its id to another payment: shown beside it, not published.
    assert (status["published"], status["in_database"], status["rejected"]) == (3, 3, 0)
    html = importer.get(page).text
    assert 'id="rows-conflict">1<' in html
    with engine.connect() as conn:
        flags = dict(conn.execute(select(ImportFlag.line_number, ImportFlag.repeats)
                                  .where(ImportFlag.kind == "conflict")).all())
        stored = conn.scalar(select(Transaction.amount).where(Transaction.transaction_id == shared))
    assert flags == {2: [4], 4: [2]}, "each line names the other"
    assert str(stored) == str(Decimal(rows[0][2])), "the first row's payment is the one stored"
